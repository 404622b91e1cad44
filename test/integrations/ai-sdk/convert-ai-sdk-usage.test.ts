import { describe, expect, it } from "vitest";
import { convertAiSdkUsage } from "../../../src/integrations/ai-sdk/convert-ai-sdk-usage.js";
import { aiSdkProviderName } from "../../../src/integrations/ai-sdk/llm-tracker-middleware.js";

describe("convertAiSdkUsage (LanguageModelV3Usage → our five counts)", () => {
  it("maps totals, cacheRead and reasoning (what @ai-sdk/openai makes of usage-reasoning-cached: 1843/412, cached 1536, reasoning 320)", () => {
    const usage = { inputTokens: { total: 1843, noCache: 307, cacheRead: 1536, cacheWrite: undefined }, outputTokens: { total: 412, text: 92, reasoning: 320 } };
    expect(convertAiSdkUsage(usage, "o4-mini")).toEqual({
      usage: { model: "o4-mini", prompt_tokens: 1843, completion_tokens: 412, total_tokens: 2255, cached_tokens: 1536, reasoning_tokens: 320 },
      usageReported: true,
    });
  });

  it("all undefined (a provider that reports none): zeros, not reported", () => {
    const usage = { inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: undefined, text: undefined, reasoning: undefined } };
    expect(convertAiSdkUsage(usage, "m")).toEqual({ usage: { model: "m", prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: false });
  });
});

describe("aiSdkProviderName", () => {
  it.each([
    ["openai.chat", "openai"],
    ["openai.responses", "openai"],
    ["azure.chat", "azure_openai"],
    ["google.generative-ai", "gemini"],
    ["anthropic.messages", "anthropic"],
  ])("%s → %s", (id, name) => expect(aiSdkProviderName(id)).toBe(name));
});
