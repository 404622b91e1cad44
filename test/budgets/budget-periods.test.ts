// A budget's period starts at midnight in its zone, whatever the zone's offset or DST.
import { describe, expect, it } from "vitest";
import { periodAt, PeriodClock } from "../../src/budgets/budget-periods.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("budget periods", () => {
  it.each([
    // zone, instant, day start, day end, label
    ["UTC", "2026-12-02T23:59:59.999Z", "2026-12-02T00:00:00.000Z", "2026-12-03T00:00:00.000Z", "2026-12-02"],
    ["Asia/Kolkata", "2026-12-02T18:29:59.999Z", "2026-12-01T18:30:00.000Z", "2026-12-02T18:30:00.000Z", "2026-12-02"],
    ["Asia/Kolkata", "2026-12-02T18:30:00.000Z", "2026-12-02T18:30:00.000Z", "2026-12-03T18:30:00.000Z", "2026-12-03"],
    ["Asia/Kathmandu", "2026-06-01T00:00:00.000Z", "2026-05-31T18:15:00.000Z", "2026-06-01T18:15:00.000Z", "2026-06-01"],
    // New York's spring-forward day has 23 hours, its fall-back day 25.
    ["America/New_York", "2026-03-08T12:00:00.000Z", "2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z", "2026-03-08"],
    ["America/New_York", "2026-11-01T12:00:00.000Z", "2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z", "2026-11-01"],
  ])("a day in %s containing %s is [%s, %s)", (zone, instant, start, end, label) => {
    const period = periodAt("day", zone, at(instant));
    expect({ start: iso(period.start), end: iso(period.end), label: period.label }).toEqual({ start, end, label });
  });

  it("a month runs from the first day's midnight in the zone to the next month's, across a year end", () => {
    const period = periodAt("month", "Asia/Shanghai", at("2026-12-31T16:00:00.000Z")); // 2027-01-01 00:00 in Shanghai
    expect({ start: iso(period.start), end: iso(period.end), label: period.label }).toEqual({ start: "2026-12-31T16:00:00.000Z", end: "2027-01-31T16:00:00.000Z", label: "2027-01" });
    const december = periodAt("month", "UTC", at("2026-12-15T00:00:00.000Z"));
    expect([iso(december.start), iso(december.end), december.label]).toEqual(["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", "2026-12"]);
  });

  it("a clock keeps its period until it ends, then moves to the next", () => {
    const clock = new PeriodClock("day", "UTC");
    const first = clock.at(at("2026-12-02T10:00:00Z"));
    expect(clock.at(at("2026-12-02T23:59:59.999Z"))).toBe(first);
    expect(clock.at(at("2026-12-03T00:00:00Z")).label).toBe("2026-12-03");
  });
});
