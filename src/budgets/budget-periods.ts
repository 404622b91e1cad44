// Where a budget's period starts and ends: midnight (day) or the first day's
// midnight (month) in the budget's time zone. The app (to name the spend it
// reads) and the worker (to name the spend it adds to) both use this one function.
import type { Budget } from "../config/settings.js";

/** One period of a budget: [start, end) in epoch ms, and its label (`2026-12-02`, `2026-12`). */
export interface Period {
  start: number;
  end: number;
  label: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall clock of `at` in `timeZone`, as numbers. */
function wallClock(at: number, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(at)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at `at`, in ms (whole seconds). */
function offsetAt(at: number, timeZone: string): number {
  const w = wallClock(at, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at / 1_000) * 1_000;
}

/**
 * The instant the zone's wall clock reads `year-month-day 00:00`. Where a DST change
 * skips midnight, the first instant of that day (the offset after the change applies).
 */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let at = wall - offsetAt(wall, timeZone);
  at = wall - offsetAt(at, timeZone);
  return at;
}

/** The period of `budget` (its kind and zone) that contains the instant `at`. */
export function periodAt(period: Budget["period"], timeZone: string, at: number): Period {
  const { year, month, day } = wallClock(at, timeZone);
  const mm = String(month).padStart(2, "0");
  if (period === "month") {
    const next = month === 12 ? [year + 1, 1] : [year, month + 1];
    return { start: zonedMidnight(year, month, 1, timeZone), end: zonedMidnight(next[0]!, next[1]!, 1, timeZone), label: `${year}-${mm}` };
  }
  const tomorrow = new Date(Date.UTC(year, month - 1, day + 1));
  return {
    start: zonedMidnight(year, month, day, timeZone),
    end: zonedMidnight(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), timeZone),
    label: `${year}-${mm}-${String(day).padStart(2, "0")}`,
  };
}

/**
 * The current period of one (kind, zone), kept until it ends: the call path asks
 * for it on every call, and only a period change pays for the Intl formatting.
 */
export class PeriodClock {
  private current: Period | undefined;

  constructor(
    readonly period: Budget["period"],
    readonly timeZone: string,
  ) {}

  at(now: number): Period {
    const current = this.current;
    if (current && now >= current.start && now < current.end) return current;
    return (this.current = periodAt(this.period, this.timeZone, now));
  }
}
