// How figures read on the page: grouped integers, dollars, percentages, and
// times as local wall-clock text (read from the API's ISO strings, which carry
// the selected zone's offset, so no Date arithmetic can shift them).

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const oneDecimal = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** 1234567 → "1,234,567" (the browser's grouping). */
export function formatInteger(value) {
  return integer.format(value);
}

/** 1234567 → "1.2M", for axes. */
export function formatCompact(value) {
  return compact.format(value);
}

/** Dollars with cents; below a cent, two significant digits: $1,234.56, $0.32, $0.0042, $0. */
export function formatUsd(value) {
  if (value === 0) return "$0";
  if (Math.abs(value) < 0.01) return `$${value.toLocaleString(undefined, { maximumSignificantDigits: 2 })}`;
  return `$${value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Dollars for an axis: $12, $1.5k, $0.03. */
export function formatUsdAxis(value) {
  if (Math.abs(value) >= 1000) return `$${compact.format(value)}`;
  return `$${Number(value.toPrecision(3)).toLocaleString()}`;
}

/** 0.1234 → "12.3%". */
export function formatPercent(fraction) {
  return `${oneDecimal.format(fraction * 100)}%`;
}

/** Milliseconds: 850 ms, 12.4 s. */
export function formatMs(value) {
  if (value >= 10_000) return `${oneDecimal.format(value / 1000)} s`;
  return `${integer.format(value)} ms`;
}

/** `2026-03-08T14:05:09.123456+08:00` → `2026-03-08 14:05:09`. */
export function formatLocalTime(iso) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `2026-03-08` → `Mar 8`. */
export function formatShortDate(date) {
  return `${MONTHS[Number(date.slice(5, 7)) - 1]} ${Number(date.slice(8, 10))}`;
}

/** A bucket's name in a tooltip: `Mar 8 14:00` or `Mar 8`. */
export function formatBucket(iso, bucket) {
  const date = formatShortDate(iso.slice(0, 10));
  return bucket === "day" ? date : `${date} ${iso.slice(11, 16)}`;
}

/**
 * The axis labels for a series of bucket starts, "" where no tick is drawn:
 * about eight days as dates; up to two days of hours every third hour (the date at
 * midnight); longer runs of hours at midnights only, about ten of them.
 */
export function axisLabels(starts, bucket) {
  if (bucket === "day") {
    const step = Math.max(1, Math.ceil(starts.length / 8));
    return starts.map((iso, i) => (i % step === 0 ? formatShortDate(iso.slice(0, 10)) : ""));
  }
  const midnight = (iso) => iso.slice(11, 16) === "00:00";
  if (starts.length <= 48) {
    return starts.map((iso) => (midnight(iso) ? formatShortDate(iso.slice(0, 10)) : Number(iso.slice(11, 13)) % 3 === 0 ? iso.slice(11, 16) : ""));
  }
  const step = Math.max(1, Math.ceil(starts.length / 24 / 10));
  let seen = 0;
  return starts.map((iso) => (midnight(iso) && seen++ % step === 0 ? formatShortDate(iso.slice(0, 10)) : ""));
}
