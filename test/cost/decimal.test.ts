// Decimal parsing and formatting: prices and costs never pass through a float.
import { describe, expect, it } from "vitest";
import { formatExact, formatRounded, parseDecimal } from "../../src/cost/index.js";

describe("exact decimals", () => {
  it.each([
    [1.25e-6, "0.00000125"],
    ["1.25e-6", "0.00000125"],
    [5e-9, "0.000000005"],
    ["0.0000000020751953125", "0.0000000020751953125"],
    [0, "0"],
    ["12", "12"],
  ] as const)("reads %s as %s", (input, expected) => {
    const units = parseDecimal(input);
    expect(units).toBeDefined();
    expect(formatExact(units!)).toBe(expected);
  });

  it.each([["-1"], ["abc"], [Number.NaN], ["1e-25"], [""]] as const)("refuses %s", (input) => {
    expect(parseDecimal(input)).toBeUndefined();
  });

  it("rounds half up to the 10 decimals of a numeric(20,10) column", () => {
    expect(formatRounded(parseDecimal("0.00000000005")!)).toBe("0.0000000001");
    expect(formatRounded(parseDecimal("0.000000000049999")!)).toBe("0.0000000000");
    expect(formatRounded(parseDecimal("1234.5")!)).toBe("1234.5000000000");
  });
});
