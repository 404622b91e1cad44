// Loading: shipped prices, a user's price file (LLM_TRACKER_PRICES), code
// overrides, and the version string that says which prices a row used.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../src/config/settings.js";
import { ConfigError } from "../../src/errors/index.js";
import { createPriceBook, getPriceBook, priceEvent, shippedPriceTable } from "../../src/cost/index.js";

const dir = mkdtempSync(join(tmpdir(), "llmt-prices-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  resetConfiguration();
  delete process.env.LLM_TRACKER_PRICES;
});

function priceFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

// 1,000 prompt (200 cached) + 500 completion tokens
const call = (model: string) => ({ provider: "openai", model, deployment: null, prompt_tokens: 1_000, completion_tokens: 500, cached_tokens: 200, reasoning_tokens: 0 });

describe("price loading", () => {
  it("uses the shipped table, versioned by the date its prices were taken, when nothing is configured", () => {
    expect(getPriceBook().version).toBe(shippedPriceTable().version);
    expect(shippedPriceTable().version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("merges a user's price file over one model field by field and leaves the other models alone", () => {
    const path = priceFile("override.json", { version: "team-2026-12", models: { "gpt-4o-mini": { input_cost_per_token: "0.0000002" } } });
    configure({ LLM_TRACKER_PRICES: path });
    // gpt-4o-mini with input 2e-7 (ours kept: cache 7.5e-8, output 6e-7):
    // 800 × 2e-7 = 0.00016; 200 × 7.5e-8 = 0.000015; 500 × 6e-7 = 0.0003; total 0.000475
    const priced = priceEvent(call("gpt-4o-mini"));
    expect(priced.costUsd).toBe("0.0004750000");
    expect(priced.priceVersion).toMatch(new RegExp(`^${shippedPriceTable().version}\\+[0-9a-f]{12}$`));
    // gpt-4o untouched: 800 × 2.5e-6 + 200 × 1.25e-6 + 500 × 1e-5 = 0.002 + 0.00025 + 0.005 = 0.00725
    expect(priceEvent(call("gpt-4o")).costUsd).toBe("0.0072500000");
  });

  it("reads the price file named by the LLM_TRACKER_PRICES environment variable", () => {
    process.env.LLM_TRACKER_PRICES = priceFile("env.json", { models: { "gpt-4o": { output_cost_per_token: 0.00002 } } });
    resetConfiguration(); // drops the cached book, as a restart would
    // 800 × 2.5e-6 + 200 × 1.25e-6 + 500 × 2e-5 = 0.002 + 0.00025 + 0.01 = 0.01225
    expect(priceEvent(call("gpt-4o")).costUsd).toBe("0.0122500000");
  });

  it("accepts LiteLLM's own flat file (with its sample_spec) and adds models we do not ship", () => {
    const path = priceFile("litellm.json", {
      sample_spec: { input_cost_per_token: 0.0, litellm_provider: "one of …", max_tokens: "LEGACY parameter" },
      "my-finetune": { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: "openai", mode: "chat" },
    });
    // 800 × 1e-6 + 200 × 1e-6 (no cache price: billed as input) + 500 × 2e-6 = 0.0008 + 0.0002 + 0.001 = 0.002
    expect(createPriceBook({ pricesPath: path }).priceEvent(call("my-finetune")).costUsd).toBe("0.0020000000");
  });

  it("lets code overrides win over the file, and null removes a field (cached tokens then cost the input price)", () => {
    const path = priceFile("base.json", { models: { "gpt-4o-mini": { input_cost_per_token: "0.0000002" } } });
    const book = createPriceBook({ pricesPath: path, overrides: { "gpt-4o-mini": { input_cost_per_token: "0.0000003", cache_read_input_token_cost: null } } });
    // 1,000 × 3e-7 (cached at input price) + 500 × 6e-7 = 0.0003 + 0.0003 = 0.0006
    expect(book.priceEvent(call("gpt-4o-mini")).costUsd).toBe("0.0006000000");
  });

  it("takes overrides and the Azure deployment map from configure()", () => {
    configure({
      LLM_TRACKER_PRICE_OVERRIDES: JSON.stringify({ "azure/gpt-4.1": { input_cost_per_token: "0.000001" } }),
      LLM_TRACKER_AZURE_DEPLOYMENTS: { "team-a": "gpt-4.1" },
    });
    // azure/gpt-4.1 with input 1e-6: 800 × 1e-6 + 200 × 5e-7 + 500 × 8e-6 = 0.0008 + 0.0001 + 0.004 = 0.0049
    const priced = priceEvent({ ...call(""), provider: "azure_openai", deployment: "team-a" });
    expect(priced).toMatchObject({ costUsd: "0.0049000000", priceKey: "azure/gpt-4.1" });
  });

  it("gives the same version for the same overrides and a different one when a price changes", () => {
    const a = createPriceBook({ overrides: { "gpt-4o": { input_cost_per_token: "0.000003", output_cost_per_token: "0.00001" } } });
    const b = createPriceBook({ overrides: { "gpt-4o": { output_cost_per_token: "0.00001", input_cost_per_token: "0.000003" } } });
    const c = createPriceBook({ overrides: { "gpt-4o": { input_cost_per_token: "0.000004", output_cost_per_token: "0.00001" } } });
    expect(a.version).toBe(b.version);
    expect(a.version).not.toBe(c.version);
  });

  it("rejects an invalid price naming the model and field, and an unreadable file naming the setting", () => {
    expect(() => createPriceBook({ overrides: { "gpt-4o": { input_cost_per_token: "-1" } } })).toThrow(ConfigError);
    expect(() => createPriceBook({ overrides: { "gpt-4o": { input_cost_per_token: "-1" } } })).toThrow(/gpt-4o\.input_cost_per_token/);
    expect(() => createPriceBook({ pricesPath: join(dir, "missing.json") })).toThrow(/LLM_TRACKER_PRICES.*ENOENT/);
    expect(() => createPriceBook({ pricesPath: priceFile("bad.json", "{not json") })).toThrow(/LLM_TRACKER_PRICES/);
  });
});
