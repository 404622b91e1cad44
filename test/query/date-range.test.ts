import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors/invalid-input-error.js";
import { parseDateRange, parseTimeZone } from "../../src/query/date-range.js";

describe("parseDateRange", () => {
  it("leaves a range open when a date is undefined or null", () => {
    expect(parseDateRange(undefined, null, undefined)).toEqual({ from: undefined, to: undefined, timeZone: "UTC" });
  });

  it("reads a Date as an exact instant", () => {
    const range = parseDateRange(new Date("2026-03-08T05:00:00.250Z"), undefined, undefined);
    expect(range.from).toEqual({ kind: "instant", iso: "2026-03-08T05:00:00.250Z" });
  });

  it("keeps the offset of an ISO string, normalised for Postgres", () => {
    expect(parseDateRange("2026-03-08T00:00:00+08:00", "2026-03-08T10:30Z", undefined)).toMatchObject({
      from: { kind: "instant", iso: "2026-03-08T00:00:00+08:00" },
      to: { kind: "instant", iso: "2026-03-08T10:30:00+00:00" },
    });
    expect(parseDateRange("2026-03-08 09:15:00.123456-0500", undefined, undefined).from).toEqual({
      kind: "instant",
      iso: "2026-03-08T09:15:00.123456-05:00",
    });
    expect(parseDateRange("2026-03-08T09:15+05", undefined, undefined).from).toEqual({ kind: "instant", iso: "2026-03-08T09:15:00+05:00" });
  });

  it("reads a date-time without offset as wall-clock time in the time zone", () => {
    expect(parseDateRange("2026-03-08T03:00:00", undefined, "America/New_York")).toEqual({
      from: { kind: "wallClock", local: "2026-03-08T03:00:00" },
      to: undefined,
      timeZone: "America/New_York",
    });
  });

  it("starts a date-only start at that day's midnight", () => {
    expect(parseDateRange("2026-03-08", undefined, undefined).from).toEqual({ kind: "wallClock", local: "2026-03-08T00:00:00" });
  });

  it("ends a date-only end at the next day's midnight, across month and year ends", () => {
    expect(parseDateRange(undefined, "2026-03-08", undefined).to).toEqual({ kind: "wallClock", local: "2026-03-09T00:00:00" });
    expect(parseDateRange(undefined, "2024-02-29", undefined).to).toEqual({ kind: "wallClock", local: "2024-03-01T00:00:00" });
    expect(parseDateRange(undefined, "2026-02-28", undefined).to).toEqual({ kind: "wallClock", local: "2026-03-01T00:00:00" });
    expect(parseDateRange(undefined, "2026-12-31", undefined).to).toEqual({ kind: "wallClock", local: "2027-01-01T00:00:00" });
  });

  it.each([
    ["yesterday"],
    [""],
    ["2026-02-30"],
    ["2026-02-29"],
    ["2026-13-01"],
    ["2026-00-10"],
    ["2026-3-8"],
    ["20260308"],
    ["2026-03-08T24:00:00Z"],
    ["2026-03-08T10:60Z"],
    ["2026-03-08T10:00:00+25:00"],
    ["2026-03-08T10:00:00 UTC"],
    ["Sun Mar 08 2026"],
    [" 2026-03-08"],
  ])("rejects %j as startDate and as endDate, naming the argument", (value) => {
    expect(() => parseDateRange(value, undefined, undefined)).toThrowError(InvalidInputError);
    expect(() => parseDateRange(value, undefined, undefined)).toThrowError(/^startDate: /);
    expect(() => parseDateRange(undefined, value, undefined)).toThrowError(/^endDate: /);
  });

  it("rejects an invalid Date, a Date beyond year 9999, numbers and objects", () => {
    for (const value of [new Date("x"), new Date(Date.UTC(10_000, 0, 1)), 1_772_928_000_000, {}, true]) {
      expect(() => parseDateRange(value, undefined, undefined)).toThrowError(/^startDate: expected a Date or an ISO 8601 string/);
    }
  });

  it("says which argument is wrong when both are", () => {
    const error = (() => {
      try {
        parseDateRange("2026-03-08", "nope", undefined);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).argument).toBe("endDate");
    expect((error as Error).message).toContain('"nope"');
  });
});

describe("parseTimeZone", () => {
  it("defaults to UTC and accepts IANA names", () => {
    expect(parseTimeZone(undefined)).toBe("UTC");
    for (const zone of ["Asia/Shanghai", "America/New_York", "Etc/GMT+5", "America/Port-au-Prince", "utc"]) expect(parseTimeZone(zone)).toBe(zone);
  });

  it.each([["Mars/Olympus_Mons"], ["+08:00"], ["UTC+8"], [""], ["Asia/Shanghai; drop table x"], [8]])("rejects %j naming options.timeZone", (zone) => {
    expect(() => parseTimeZone(zone)).toThrowError(InvalidInputError);
    expect(() => parseTimeZone(zone)).toThrowError(/^options\.timeZone: /);
  });
});
