// Converts an OpenAI / Azure OpenAI chat completion `usage` block into the one usage shape.
import type { ConvertedUsage } from "../types.js";

/** The usage block as it arrives on the wire: any field may be missing or null (gateways, older API versions). */
export interface OpenAIChatUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/**
 * Pure. `model` is the model the response reports (the caller falls back to the
 * requested one). OpenAI already counts cached tokens inside `prompt_tokens` and
 * reasoning tokens inside `completion_tokens`, so the details are subsets as they are.
 */
export function convertOpenAIUsage(usage: OpenAIChatUsage | null | undefined, model: string): ConvertedUsage {
  if (usage == null) {
    return { usage: { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: false };
  }
  const prompt = usage.prompt_tokens ?? 0;
  const completion = usage.completion_tokens ?? 0;
  return {
    usage: {
      model,
      prompt_tokens: prompt,
      completion_tokens: completion,
      // The provider's total when it gives one (it equals prompt + completion on every payload we have seen).
      total_tokens: usage.total_tokens ?? prompt + completion,
      cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    },
    usageReported: true,
  };
}
