// Exact decimal arithmetic for money: prices and costs are BigInt integers
// counting units of 1e-24 USD, so no float ever touches a price or a cost.

/** Digits after the decimal point that prices keep exactly (1e-24 USD). */
export const PRICE_SCALE = 24;

/** Digits after the decimal point in a stored cost, matching a `numeric(20,10)` column. */
export const COST_DECIMALS = 10;

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/;

/**
 * Parses a non-negative decimal (a JSON number or a decimal string such as
 * `"0.00000125"` or `"1.25e-6"`) into an integer of 1e-24 units. A JSON number
 * is read through its shortest round-trip text, which is the literal the price
 * file wrote, so `1.25e-06` becomes exactly 1.25e-06. Returns undefined for
 * anything else (negative, NaN, more than 24 decimals).
 */
export function parseDecimal(value: number | string): bigint | undefined {
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  const exponent = Number(match[3] ?? "0");
  const digits = BigInt(whole + fraction);
  const shift = exponent - fraction.length + PRICE_SCALE;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  // A price finer than 1e-24 USD can not be kept exactly; refuse it rather than round silently.
  return digits % divisor === 0n ? digits / divisor : undefined;
}

/** Writes an integer of 1e-24 units as a plain decimal string, trailing zeros removed. */
export function formatExact(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const text = abs.toString().padStart(PRICE_SCALE + 1, "0");
  const whole = text.slice(0, -PRICE_SCALE);
  const fraction = text.slice(-PRICE_SCALE).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/**
 * Rounds an integer of 1e-24 units half-up to `decimals` places and writes it
 * with exactly that many decimals (`"0.0000125000"`), ready for a `numeric` column.
 */
export function formatRounded(units: bigint, decimals = COST_DECIMALS): string {
  if (units < 0n) throw new RangeError("costs are never negative");
  const step = 10n ** BigInt(PRICE_SCALE - decimals);
  const rounded = (units + step / 2n) / step;
  const text = rounded.toString().padStart(decimals + 1, "0");
  return decimals === 0 ? text : `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
}
