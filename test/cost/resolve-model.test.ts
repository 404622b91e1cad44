// Provider-reported names → price-table keys, row by row.
import { describe, expect, it } from "vitest";
import { createPriceBook } from "../../src/cost/index.js";

const book = createPriceBook({ azureDeployments: { "prod-chat": "gpt-4.1-mini", "eu-reasoner": "azure/o3" } });

describe("model name resolution", () => {
  it.each([
    // provider, reported model, deployment, expected key
    ["openai", "gpt-4o-mini-2024-07-18", null, "gpt-4o-mini"],
    ["openai", "gpt-4o-2024-08-06", null, "gpt-4o"],
    ["openai", "gpt-4o-2024-05-13", null, "gpt-4o-2024-05-13"], // its own (older, dearer) price wins over the stripped name
    ["openai", "gpt-5-nano-2025-08-07", null, "gpt-5-nano"],
    ["openai", "o3-mini-2025-01-31", null, "o3-mini"],
    ["openai", "openai/gpt-4.1", null, "gpt-4.1"], // gateway spelling
    ["gemini", "gemini-2.0-flash-001", null, "gemini/gemini-2.0-flash"],
    ["gemini", "models/gemini-2.5-flash", null, "gemini/gemini-2.5-flash"],
    ["gemini", "GEMINI-2.5-PRO", null, "gemini/gemini-2.5-pro"],
    ["gemini", "gemini/gemini-3-flash-preview", null, "gemini/gemini-3-flash-preview"],
    [null, "gemini-2.5-flash-lite", null, "gemini/gemini-2.5-flash-lite"], // unknown provider: every prefix tried
    [null, "gpt-4.1-nano-2025-04-14", null, "gpt-4.1-nano"],
    ["azure_openai", "gpt-4o-mini-2024-07-18", "anything", "azure/gpt-4o-mini"],
    ["azure_openai", "gpt-4o-mini", "prod-chat", "azure/gpt-4.1-mini"], // the deployment map wins over the reported name
    ["azure_openai", "o3-2025-04-16", "eu-reasoner", "azure/o3"],
    ["azure_openai", "", "gpt-5-mini", "azure/gpt-5-mini"], // no model reported: a deployment named after its model
  ] as const)("%s %s (deployment %s) → %s", (provider, model, deployment, expected) => {
    expect(book.resolve({ provider, model, deployment })).toBe(expected);
  });

  it.each([
    ["gemini", "gemini-2.5-flash-preview-09-2025"], // a preview with its own prices is not guessed as the GA model
    ["openai", "gpt-4o-mini-realtime-preview"],
    ["azure_openai", "gpt-5.2"], // not in the Azure table; never priced as OpenAI
    ["openai", ""],
  ] as const)("%s %s → unpriced", (provider, model) => {
    expect(book.resolve({ provider, model, deployment: null })).toBeNull();
  });
});
