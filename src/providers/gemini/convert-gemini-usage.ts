// Converts Gemini's `usageMetadata` into the one usage shape.
import type { ConvertedUsage } from "../types.js";

/** The fields of `usageMetadata` we read; every one may be absent. */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

/**
 * Pure. Gemini counts its parts separately, unlike OpenAI:
 * - `candidatesTokenCount` excludes `thoughtsTokenCount`, so completion = candidates + thoughts
 *   and reasoning = thoughts (billed as output);
 * - `toolUsePromptTokenCount` (tool results fed back to the model) is outside `promptTokenCount`
 *   but is input, so it goes into prompt_tokens;
 * - `cachedContentTokenCount` is already a part of `promptTokenCount`.
 * Then prompt + completion equals `totalTokenCount` on every real payload we have. When the
 * provider's total disagrees (a part we do not know yet), total_tokens is still prompt +
 * completion, so the contract's invariant holds and no tokens are invented; the raw response
 * keeps the provider's own figure.
 */
export function convertGeminiUsage(metadata: GeminiUsageMetadata | null | undefined, model: string): ConvertedUsage {
  if (metadata == null) {
    return { usage: { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: false };
  }
  const thoughts = metadata.thoughtsTokenCount ?? 0;
  const prompt = (metadata.promptTokenCount ?? 0) + (metadata.toolUsePromptTokenCount ?? 0);
  const completion = (metadata.candidatesTokenCount ?? 0) + thoughts;
  return {
    usage: {
      model,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_tokens: metadata.cachedContentTokenCount ?? 0,
      reasoning_tokens: thoughts,
    },
    usageReported: true,
  };
}
