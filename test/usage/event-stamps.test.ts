// The event's id and created_at text, made without crypto.randomUUID()/toISOString() on
// the call's path: they must be what those would give.
import { describe, expect, it } from "vitest";
import { newEventId } from "../../src/usage/event-id.js";
import { isoTimestamp } from "../../src/usage/iso-timestamp.js";

describe("isoTimestamp", () => {
  it("equals toISOString() at every edge it computes: month ends, leap days, centuries, the last millisecond of a day", () => {
    const edges = [
      "1970-01-01T00:00:00.000Z", "1972-02-29T23:59:59.999Z", "1999-12-31T23:59:59.999Z", "2000-02-29T12:00:00.000Z",
      "2000-03-01T00:00:00.000Z", "2024-12-31T23:59:59.999Z", "2026-12-02T06:10:42.007Z", "2100-02-28T23:59:59.999Z",
      "2100-03-01T00:00:00.000Z", "2400-02-29T00:00:00.001Z", "9999-12-31T23:59:59.999Z",
    ];
    for (const text of edges) expect(isoTimestamp(new Date(text))).toBe(text);
  });

  it("equals toISOString() for 200,000 random instants from 1970 to 9999", () => {
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296);
    for (let i = 0; i < 200_000; i += 1) {
      const ms = Math.floor(next() * 253_402_300_800_000 * (i % 2 === 0 ? 1 : next() ** 8));
      const date = new Date(ms);
      expect(isoTimestamp(date)).toBe(date.toISOString());
    }
  });

  it("falls back to toISOString() outside 1970–9999, and throws its RangeError for an invalid date", () => {
    for (const date of [new Date("1969-12-31T23:59:59.999Z"), new Date(-1e14), new Date(Date.UTC(10000, 0, 1)), new Date(8.64e15)]) {
      expect(isoTimestamp(date)).toBe(date.toISOString());
    }
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("newEventId", () => {
  it("gives version 4 UUIDs, never the same one twice", () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
