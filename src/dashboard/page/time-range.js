// The range a preset means in the selected time zone, as the API's from / to:
// "24 h" is the current local hour and the 23 before it (instants, so a DST
// change still gives 24 real hours); "7 d" and "30 d" are today and the 6 or
// 29 local days before it (dates: the server reads a date as that day's local
// midnight, and a date-only `to` as the end of that day).

const HOUR_MS = 3_600_000;
/**
 * Hourly buckets are offered up to this many days: a week is 168 bars, about
 * as many as a chart shows readably, and past it an hourly chart by model costs
 * the server more than a page call should (30 days: ~150 ms at 10M rows, see
 * docs/benchmarks.md); the stats themselves allow 1,000 buckets.
 */
export const MAX_HOURLY_DAYS = 7;

/**
 * How often an open page reloads its figures (when "auto-refresh" is on and the
 * page is visible). The server keeps its connections longer than this
 * (src/dashboard/dashboard-pool.ts), so a refresh finds them warm.
 */
export const REFRESH_MS = 60_000;

/** The wall clock of `instant` in `zone`. */
export function localParts(instant, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  const get = (type) => Number(parts.find((part) => part.type === type).value);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** Today's date in `zone`, `YYYY-MM-DD`. */
export function localToday(zone, now = new Date()) {
  const { year, month, day } = localParts(now, zone);
  return dateText(year, month, day);
}

/** A `YYYY-MM-DD` date moved by whole calendar days. */
export function addDays(date, days) {
  const moved = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)) + days));
  return dateText(moved.getUTCFullYear(), moved.getUTCMonth() + 1, moved.getUTCDate());
}

/** Calendar days from `from` to `to`, both included. */
export function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

/**
 * `{ from, to, defaultBucket, days }` for the view's range: `preset` is 24h, 7d,
 * 30d or custom (then `custom` = { from, to }, dates, both days included).
 */
export function rangeFor(preset, zone, custom, now = new Date()) {
  if (preset === "24h") {
    const { minute, second } = localParts(now, zone);
    // Zone offsets are whole minutes, so the local hour starts this many ms ago.
    const hourStart = now.getTime() - now.getUTCMilliseconds() - second * 1000 - minute * 60_000;
    return {
      from: new Date(hourStart - 23 * HOUR_MS).toISOString(),
      to: new Date(hourStart + HOUR_MS).toISOString(),
      defaultBucket: "hour",
      days: 1,
    };
  }
  if (preset === "custom") {
    const days = daysBetween(custom.from, custom.to);
    return { from: custom.from, to: custom.to, defaultBucket: days <= 3 ? "hour" : "day", days };
  }
  const days = preset === "7d" ? 7 : 30;
  const today = localToday(zone, now);
  return { from: addDays(today, 1 - days), to: today, defaultBucket: days <= 7 ? "hour" : "day", days };
}

/** The bucket to chart: the chosen one when the range allows it, else the range's default. */
export function bucketFor(range, chosen) {
  if (chosen === "day") return "day";
  if (chosen === "hour" && range.days <= MAX_HOURLY_DAYS) return "hour";
  return range.defaultBucket;
}

/** A readable line for the range: "Mar 9, 14:00 – Mar 10, 14:00" or "Mar 4 – Mar 10, 2026". */
export function describeRange(range, zone) {
  if (range.from.length === 10) {
    const format = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", month: "short", day: "numeric" });
    const formatYear = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", month: "short", day: "numeric", year: "numeric" });
    const at = (date) => new Date(`${date}T12:00:00Z`);
    const span = range.from === range.to ? formatYear.format(at(range.from)) : `${format.format(at(range.from))} – ${formatYear.format(at(range.to))}`;
    return `${span} · ${range.days === 1 ? "1 day" : `${range.days} days`}`;
  }
  const format = new Intl.DateTimeFormat(undefined, { timeZone: zone, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `${format.format(new Date(range.from))} – ${format.format(new Date(range.to))} · last 24 hours`;
}

function dateText(year, month, day) {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}
