// The time-zone names the stats and budgets accept: IANA names, asked of Intl
// once and remembered (lower-cased), never a POSIX-style offset.
import { describe, expect, it } from "vitest";
import { isTimeZoneName } from "../src/time-zone-name.js";

describe("isTimeZoneName", () => {
  it("accepts IANA names in any case, the same on the second asking", () => {
    for (let i = 0; i < 2; i += 1) {
      expect(isTimeZoneName("Asia/Kolkata")).toBe(true);
      expect(isTimeZoneName("asia/kolkata")).toBe(true);
      expect(isTimeZoneName("UTC")).toBe(true);
    }
  });

  it("refuses unknown names, offsets and non-strings, also on the second asking", () => {
    for (let i = 0; i < 2; i += 1) {
      expect(isTimeZoneName("Mars/Olympus_Mons")).toBe(false);
      expect(isTimeZoneName("UTC+8")).toBe(false);
      expect(isTimeZoneName("+08:00")).toBe(false);
      expect(isTimeZoneName("")).toBe(false);
      expect(isTimeZoneName(8)).toBe(false);
    }
  });
});
