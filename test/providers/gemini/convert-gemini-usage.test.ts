import { describe, expect, it } from "vitest";
import { type GeminiUsageMetadata, convertGeminiUsage } from "../../../src/providers/gemini/convert-gemini-usage.js";
import { loadFixture } from "../../fake-provider/fake-provider.js";

interface Response {
  modelVersion?: string;
  usageMetadata?: GeminiUsageMetadata;
}
const response = (name: string) => loadFixture(name) as Response;

describe("convertGeminiUsage", () => {
  const rows: [fixture: string, expected: { prompt: number; completion: number; cached: number; reasoning: number }][] = [
    // plain answer: no thoughts, no cache
    ["gemini/generate-content-basic", { prompt: 6, completion: 9, cached: 0, reasoning: 0 }],
    // thinking: candidatesTokenCount 1 excludes thoughtsTokenCount 137
    ["gemini/generate-content-thinking", { prompt: 11, completion: 138, cached: 0, reasoning: 137 }],
    // implicit cache: cachedContentTokenCount is part of promptTokenCount
    ["gemini/generate-content-cached-thinking", { prompt: 8450, completion: 111, cached: 8192, reasoning: 97 }],
    // tool use: toolUsePromptTokenCount 180 is input outside promptTokenCount
    ["gemini/generate-content-tool-use-thinking", { prompt: 203, completion: 109, cached: 0, reasoning: 68 }],
    ["gemini/generate-content-json", { prompt: 17, completion: 12, cached: 0, reasoning: 0 }],
    // a blocked prompt still costs its input
    ["gemini/prompt-blocked", { prompt: 13, completion: 0, cached: 0, reasoning: 0 }],
    ["gemini/finish-safety-no-content", { prompt: 10, completion: 0, cached: 0, reasoning: 0 }],
  ];

  it.each(rows)("converts %s so prompt + completion = the provider's totalTokenCount", (fixture, e) => {
    const body = response(fixture);
    const { usage, usageReported } = convertGeminiUsage(body.usageMetadata, body.modelVersion ?? "requested");
    expect(usageReported).toBe(true);
    expect(usage).toEqual({
      model: body.modelVersion,
      prompt_tokens: e.prompt,
      completion_tokens: e.completion,
      total_tokens: e.prompt + e.completion,
      cached_tokens: e.cached,
      reasoning_tokens: e.reasoning,
    });
    expect(usage.total_tokens).toBe(body.usageMetadata?.totalTokenCount);
    expect(usage.cached_tokens).toBeLessThanOrEqual(usage.prompt_tokens);
    expect(usage.reasoning_tokens).toBeLessThanOrEqual(usage.completion_tokens);
  });

  it("counts a usage block that has only promptTokenCount", () => {
    const body = response("gemini/generate-content-prompt-only-usage");
    expect(convertGeminiUsage(body.usageMetadata, "gemini-2.0-flash")).toEqual({
      usage: { model: "gemini-2.0-flash", prompt_tokens: 5, completion_tokens: 0, total_tokens: 5, cached_tokens: 0, reasoning_tokens: 0 },
      usageReported: true,
    });
  });

  it("reports zeros and usageReported false when the response has no usageMetadata", () => {
    const body = response("gemini/generate-content-no-usage");
    expect(convertGeminiUsage(body.usageMetadata, "gemini-2.0-flash")).toEqual({
      usage: { model: "gemini-2.0-flash", prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 },
      usageReported: false,
    });
  });

  it("keeps prompt + completion as the total when the provider's total disagrees", () => {
    const { usage } = convertGeminiUsage({ promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 99 }, "m");
    expect(usage.total_tokens).toBe(15);
  });
});
