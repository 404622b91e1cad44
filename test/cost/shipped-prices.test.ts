// The shipped table is usable data: every entry prices a chat call, keys follow LiteLLM's spelling.
import { describe, expect, it } from "vitest";
import { applicablePrices, shippedPriceTable } from "../../src/cost/index.js";

const table = shippedPriceTable();

describe("shipped price table", () => {
  it("names where and when its prices were taken", () => {
    expect(table.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.source).toMatch(/litellm/i);
  });

  it.each(Object.entries(table.models))("%s has input and output prices and a provider", (key, entry) => {
    expect(key).toBe(key.toLowerCase());
    expect(applicablePrices(entry, 1)).toBeDefined();
    const provider = key.startsWith("azure/") ? "azure" : key.startsWith("gemini/") ? "gemini" : "openai";
    expect(entry.litellm_provider).toBe(provider);
  });

  it("covers the three providers' current chat models", () => {
    for (const key of ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "o4-mini", "gpt-5", "azure/gpt-4o", "azure/gpt-5-mini", "azure/o4-mini", "gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash", "gemini/gemini-3-pro-preview"]) {
      expect(table.models[key], key).toBeDefined();
    }
  });
});
