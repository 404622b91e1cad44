// Turns the stats' (startDate, endDate, timeZone) arguments into a half-open
// range [from, to) of bounds, or throws InvalidInputError naming the argument.
// Pure: Postgres turns wall-clock bounds into instants, with the same tz data
// it groups days by, so the two always agree (DST included).
import { InvalidInputError } from "../errors/invalid-input-error.js";
import { isTimeZoneName } from "../time-zone-name.js";

/** A date the stats accept: a valid `Date`, or an ISO 8601 string. */
export type DateInput = Date | string;

/**
 * A range bound. `instant`: an exact moment (a Date, or a string with `Z` or
 * an offset), as ISO text. `wallClock`: a local date-time without offset
 * (`YYYY-MM-DDTHH:mm:ss[.f]`), read in the stats' time zone.
 */
export type Bound = { kind: "instant"; iso: string } | { kind: "wallClock"; local: string };

export interface DateRange {
  /** Inclusive; undefined when the range is open at the start. */
  from: Bound | undefined;
  /** Exclusive; undefined when the range is open at the end. */
  to: Bound | undefined;
  timeZone: string;
}

const EXAMPLES = "a Date or an ISO 8601 string such as 2026-03-08, 2026-03-08T09:30:00Z or 2026-03-08T09:30:00+08:00";

// Calendar date, then an optional time (T, t or space) with optional seconds,
// fraction (. or ,) and offset (Z, ±HH, ±HHMM, ±HH:MM).
const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Parses the arguments every stats function takes; throws before any query is made. */
export function parseDateRange(startDate: unknown, endDate: unknown, timeZone: unknown): DateRange {
  return {
    from: parseBound("startDate", startDate, "start"),
    to: parseBound("endDate", endDate, "end"),
    timeZone: parseTimeZone(timeZone),
  };
}

/** An IANA time zone name Node knows (default UTC); offsets and POSIX strings are refused. */
export function parseTimeZone(value: unknown): string {
  if (value === undefined) return "UTC";
  if (isTimeZoneName(value)) return value;
  throw new InvalidInputError("options.timeZone", `expected an IANA time zone name such as UTC, Asia/Shanghai or America/New_York, got ${describe(value)}`);
}

function parseBound(argument: string, value: unknown, edge: "start" | "end"): Bound | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) {
    const year = value.getUTCFullYear(); // NaN for an invalid Date
    if (!(year >= 1 && year <= 9999)) throw new InvalidInputError(argument, `expected ${EXAMPLES}, got ${describe(value)}`);
    return { kind: "instant", iso: value.toISOString() };
  }
  if (typeof value !== "string") throw new InvalidInputError(argument, `expected ${EXAMPLES}, got ${describe(value)}`);

  const match = ISO_PATTERN.exec(value);
  if (!match) throw new InvalidInputError(argument, `expected ${EXAMPLES}, got ${describe(value)}`);
  const [, y, mo, d, h, mi, s, fraction, offset] = match as unknown as [string, string, string, string, ...(string | undefined)[]];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new InvalidInputError(argument, `${describe(value)} is not a calendar date`);
  }

  if (h === undefined) {
    // A date alone means that whole day: from its midnight, or up to the next day's.
    const date = edge === "end" ? nextDay(year, month, day) : `${y}-${mo}-${d}`;
    return { kind: "wallClock", local: `${date}T00:00:00` };
  }

  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) throw new InvalidInputError(argument, `${describe(value)} is not a valid time of day`);
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s ?? "00"}${fraction ? `.${fraction}` : ""}`;
  if (offset === undefined) return { kind: "wallClock", local };
  const normalized = offset.toUpperCase() === "Z" ? "+00:00" : normalizeOffset(offset);
  if (normalized === undefined) throw new InvalidInputError(argument, `${describe(value)} has an invalid UTC offset`);
  return { kind: "instant", iso: `${local}${normalized}` };
}

/** `+08`, `+0800`, `+08:00` → `+08:00`; undefined when out of range. */
function normalizeOffset(offset: string): string | undefined {
  const digits = offset.slice(1).replace(":", "");
  const hours = digits.slice(0, 2);
  const minutes = digits.slice(2) || "00";
  if (Number(hours) > 23 || Number(minutes) > 59) return undefined;
  return `${offset[0]}${hours}:${minutes}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function nextDay(year: number, month: number, day: number): string {
  let [y, m, d] = [year, month, day + 1];
  if (d > daysInMonth(y, m)) [m, d] = [m + 1, 1];
  if (m > 12) [y, m] = [y + 1, 1];
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** The rejected value, short and quoted, for the error message (dates and zone names are never secrets). */
function describe(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date outside the years 1-9999";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return value === null ? "null" : typeof value;
}
