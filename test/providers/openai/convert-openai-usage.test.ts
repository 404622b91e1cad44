import { describe, expect, it } from "vitest";
import { type OpenAIChatUsage, convertOpenAIUsage } from "../../../src/providers/openai/convert-openai-usage.js";
import { loadFixture } from "../../fake-provider/fake-provider.js";

interface Completion {
  model?: string;
  usage?: OpenAIChatUsage | null;
}
const completion = (name: string) => loadFixture(name) as Completion;

describe("convertOpenAIUsage", () => {
  const rows: [fixture: string, expected: { prompt: number; completion: number; total: number; cached: number; reasoning: number }][] = [
    ["openai/chat-completion-basic", { prompt: 19, completion: 9, total: 28, cached: 0, reasoning: 0 }],
    ["openai/chat-completion-reasoning-cached", { prompt: 1843, completion: 412, total: 2255, cached: 1536, reasoning: 320 }],
    ["openai/chat-completion-null-content", { prompt: 12, completion: 256, total: 268, cached: 0, reasoning: 256 }],
    ["openai/chat-completion-no-details", { prompt: 14, completion: 8, total: 22, cached: 0, reasoning: 0 }],
    ["azure/chat-completion-basic", { prompt: 15, completion: 10, total: 25, cached: 0, reasoning: 0 }],
    ["azure/chat-completion-reasoning", { prompt: 2210, completion: 980, total: 3190, cached: 2048, reasoning: 704 }],
    ["azure/chat-completion-null-details", { prompt: 31, completion: 5, total: 36, cached: 0, reasoning: 0 }],
    ["azure/chat-completion-content-filter", { prompt: 38, completion: 64, total: 102, cached: 0, reasoning: 0 }],
  ];

  it.each(rows)("converts %s", (fixture, e) => {
    const body = completion(fixture);
    const { usage, usageReported } = convertOpenAIUsage(body.usage, body.model ?? "requested");
    expect(usageReported).toBe(true);
    expect(usage).toEqual({
      model: body.model,
      prompt_tokens: e.prompt,
      completion_tokens: e.completion,
      total_tokens: e.total,
      cached_tokens: e.cached,
      reasoning_tokens: e.reasoning,
    });
    expect(usage.cached_tokens).toBeLessThanOrEqual(usage.prompt_tokens);
    expect(usage.reasoning_tokens).toBeLessThanOrEqual(usage.completion_tokens);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it("reports zeros and usageReported false when the response has no usage", () => {
    const body = completion("openai/chat-completion-no-usage");
    expect(body.usage).toBeUndefined();
    expect(convertOpenAIUsage(body.usage, "gpt-4.1-nano-2025-04-14")).toEqual({
      usage: { model: "gpt-4.1-nano-2025-04-14", prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 },
      usageReported: false,
    });
    expect(convertOpenAIUsage(null, "m").usageReported).toBe(false);
  });

  it("treats null counts inside the details as zero", () => {
    const { usage } = convertOpenAIUsage(
      { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: null }, completion_tokens_details: { reasoning_tokens: null } },
      "m",
    );
    expect([usage.cached_tokens, usage.reasoning_tokens]).toEqual([0, 0]);
  });

  it("sums prompt and completion when the provider omits the total", () => {
    expect(convertOpenAIUsage({ prompt_tokens: 7, completion_tokens: 3 }, "m").usage.total_tokens).toBe(10);
  });
});
