// Hand-computed costs against the shipped prices; the arithmetic is in each comment.
import { describe, expect, it } from "vitest";
import { createPriceBook } from "../../src/cost/index.js";

const book = createPriceBook();

const event = (provider: string | null, model: string, counts: { prompt: number; completion: number; cached?: number; reasoning?: number }, deployment: string | null = null) => ({
  provider,
  model,
  deployment,
  prompt_tokens: counts.prompt,
  completion_tokens: counts.completion,
  cached_tokens: counts.cached ?? 0,
  reasoning_tokens: counts.reasoning ?? 0,
});

describe("cost of one call", () => {
  it("prices OpenAI cached prompt tokens at the cache-read rate and reasoning tokens at the output rate when the table has no reasoning rate", () => {
    // o4-mini: input 1.1e-6, cache read 2.75e-7, output 4.4e-6 (no reasoning price → output price)
    // 6,000 uncached × 1.1e-6 = 0.0066; 4,000 cached × 2.75e-7 = 0.0011
    // 500 visible + 1,500 reasoning = 2,000 × 4.4e-6 = 0.0088; total 0.0165
    const priced = book.priceEvent(event("openai", "o4-mini-2025-04-16", { prompt: 10_000, cached: 4_000, completion: 2_000, reasoning: 1_500 }));
    expect(priced).toEqual({ costUsd: "0.0165000000", priceVersion: book.version, priceKey: "o4-mini" });
  });

  it("never bills cached tokens at the full input price", () => {
    // gpt-4o-mini-2024-07-18 → gpt-4o-mini: input 1.5e-7, cache 7.5e-8, output 6e-7
    // 800 × 1.5e-7 = 0.00012; 200 × 7.5e-8 = 0.000015; 500 × 6e-7 = 0.0003; total 0.000435
    // (cached billed as input would give 0.00045)
    expect(book.priceEvent(event("openai", "gpt-4o-mini-2024-07-18", { prompt: 1_000, cached: 200, completion: 500 })).costUsd).toBe("0.0004350000");
  });

  it("prices Gemini thinking tokens at the reasoning rate and cached tokens at the cache rate", () => {
    // gemini-2.5-flash: input 3e-7, cache 3e-8, output 2.5e-6, reasoning 2.5e-6
    // 4,000 uncached × 3e-7 = 0.0012; 8,000 cached × 3e-8 = 0.00024
    // 600 visible × 2.5e-6 = 0.0015; 2,400 thinking × 2.5e-6 = 0.006; total 0.00894
    const counts = { prompt: 12_000, cached: 8_000, completion: 3_000, reasoning: 2_400 };
    expect(book.priceEvent(event("gemini", "gemini-2.5-flash", counts)).costUsd).toBe("0.0089400000");

    // With a reasoning price of its own (3.5e-6) the 2,400 thinking tokens cost 0.0084:
    // 0.0012 + 0.00024 + 0.0015 + 0.0084 = 0.01134
    const own = createPriceBook({ overrides: { "gemini/gemini-2.5-flash": { output_cost_per_reasoning_token: "0.0000035" } } });
    expect(own.priceEvent(event("gemini", "gemini-2.5-flash", counts)).costUsd).toBe("0.0113400000");
  });

  it("prices a Gemini 2.5 Pro call above 200k prompt tokens entirely at the long-context rates", () => {
    // > 200k: input 2.5e-6, cache 2.5e-7, output 1.5e-5 (reasoning: the tiered output rate)
    // 200,000 uncached × 2.5e-6 = 0.5; 50,000 cached × 2.5e-7 = 0.0125; 10,000 output × 1.5e-5 = 0.15; total 0.6625
    const explained = book.explain(event("gemini", "gemini-2.5-pro", { prompt: 250_000, cached: 50_000, completion: 10_000, reasoning: 4_000 }));
    expect(explained?.costUsd).toBe("0.6625000000");
    expect(explained?.prices.tierAboveTokens).toBe(200_000);
  });

  it("keeps the base rates at exactly 200k prompt tokens", () => {
    // 200,000 × 1.25e-6 = 0.25; 1,000 × 1e-5 = 0.01; total 0.26
    const explained = book.explain(event("gemini", "gemini-2.5-pro", { prompt: 200_000, completion: 1_000 }));
    expect(explained?.costUsd).toBe("0.2600000000");
    expect(explained?.prices.tierAboveTokens).toBeNull();
  });

  it("prices an Azure deployment by the model it is mapped to, at Azure's price", () => {
    // prod-chat → gpt-4o-mini → azure/gpt-4o-mini: input 1.65e-7, output 6.6e-7 (OpenAI's would be 1.5e-7 / 6e-7)
    // 1,000 × 1.65e-7 = 0.000165; 1,000 × 6.6e-7 = 0.00066; total 0.000825
    const azure = createPriceBook({ azureDeployments: { "prod-chat": "gpt-4o-mini" } });
    const priced = azure.priceEvent(event("azure_openai", "", { prompt: 1_000, completion: 1_000 }, "prod-chat"));
    expect(priced.costUsd).toBe("0.0008250000");
    expect(priced.priceKey).toBe("azure/gpt-4o-mini");
  });

  it("uses the model an Azure response reports, with its snapshot price when the table has one", () => {
    // azure/gpt-4o-2024-11-20: input 2.75e-6, output 1.1e-5 → 1,000 × 2.75e-6 + 100 × 1.1e-5 = 0.00275 + 0.0011 = 0.00385
    const priced = book.priceEvent(event("azure_openai", "gpt-4o-2024-11-20", { prompt: 1_000, completion: 100 }, "my-deployment"));
    expect(priced).toMatchObject({ costUsd: "0.0038500000", priceKey: "azure/gpt-4o-2024-11-20" });
  });

  it("returns a null cost for a model the table does not know, and still says which prices were consulted", () => {
    expect(book.priceEvent(event("openai", "llama-3-70b", { prompt: 10, completion: 10 }))).toEqual({ costUsd: null, priceVersion: book.version, priceKey: null });
    // Azure never borrows OpenAI's price: gpt-5.2 is priced for OpenAI but not for Azure in the shipped table.
    expect(book.priceEvent(event("azure_openai", "gpt-5.2", { prompt: 10, completion: 10 }, "d")).costUsd).toBeNull();
    expect(book.priceEvent(event("openai", "gpt-5.2", { prompt: 10, completion: 10 })).costUsd).not.toBeNull();
  });

  it("gives a known model with no tokens a zero cost, not null", () => {
    expect(book.priceEvent(event("openai", "gpt-4o", { prompt: 0, completion: 0 })).costUsd).toBe("0.0000000000");
  });

  it("computes huge token counts exactly where floating point drifts", () => {
    // gemini-2.0-flash-lite cache read 1.875e-8; 1,000,000,007 cached tokens:
    // exact 18.75000013125 (float gives 18.750000131249998); rounded half-up to 10 places 18.7500001313
    const explained = book.explain(event("gemini", "gemini-2.0-flash-lite", { prompt: 1_000_000_007, cached: 1_000_000_007, completion: 0 }));
    expect(explained?.exactUsd).toBe("18.75000013125");
    expect(explained?.costUsd).toBe("18.7500001313");
    // azure/gpt-4o-mini input 1.65e-7 × 123,456,789 = 20.370370185 exactly (float: 20.370370185000002)
    expect(book.priceEvent(event("azure_openai", "gpt-4o-mini", { prompt: 123_456_789, completion: 0 }, "x")).costUsd).toBe("20.3703701850");
  });

  it("clamps counts that break the subset invariants instead of producing a negative term", () => {
    // cached 5 > prompt 3 → all 3 cached: 3 × 1.25e-6 = 0.00000375 (gpt-4o cache read)
    expect(book.priceEvent(event("openai", "gpt-4o", { prompt: 3, cached: 5, completion: 0 })).costUsd).toBe("0.0000037500");
  });
});
