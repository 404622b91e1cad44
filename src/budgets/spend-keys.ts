// How spend is named and counted in Redis, shared by the worker that writes it
// and the app that reads it. One hash per (period kind, zone, period), beside the
// queue's keys (same prefix, so the same Redis Cluster slot when it holds a hash tag):
//   <prefix>:<queue>:budget:<day|month>:<zone>:<label>
// with fields `g` (everything), `u:<user_id>`, `n:<node_name>`, each an integer
// count of SPEND_UNITS (1e-10 USD, the cost_usd column's scale: sums stay exact).
import type { Budget } from "../config/settings.js";

/** Integer units of spend per USD: 10^10, the scale of `cost_usd`. */
export const UNITS_PER_USD = 10_000_000_000n;

/** Where a rebuild records the Postgres snapshot its sums came from (see spend-ledger.ts). */
export const SNAPSHOT_FIELD = "__snapshot";

/** What every key of one queue's spend starts with. */
export function spendKeyBase(queuePrefix: string, queueName: string): string {
  return `${queuePrefix}:${queueName}:budget`;
}

export function periodHashKey(base: string, period: Budget["period"], timeZone: string, label: string): string {
  return `${base}:${period}:${timeZone}:${label}`;
}

/** The hash field a call counts under for `scope`: null when the call has no such key (no user id). */
export function spendField(scope: Budget["scope"], key: string | null): string | null {
  if (scope === "global") return "g";
  if (key === null) return null;
  return scope === "user" ? `u:${key}` : `n:${key}`;
}

/** A `numeric` text (`"0.0000012500"`, `"12"`) as whole units; digits past the 10th are dropped (the column keeps 10). */
export function usdTextToUnits(text: string): bigint {
  const negative = text.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const units = BigInt(whole || "0") * UNITS_PER_USD + BigInt((fraction + "0000000000").slice(0, 10));
  return negative ? -units : units;
}

/** USD as a JavaScript number (exact to the cent far beyond any budget). */
export function unitsToUsd(units: bigint): number {
  return Number(units) / Number(UNITS_PER_USD);
}

/** A limit in USD as units, rounded to the unit. */
export function usdToUnits(usd: number): bigint {
  return BigInt(Math.round(usd * 1e10));
}

/** Redis hash value → units (a missing field is 0). */
export function parseUnits(value: string | null | undefined): bigint {
  return value === null || value === undefined ? 0n : BigInt(value);
}
