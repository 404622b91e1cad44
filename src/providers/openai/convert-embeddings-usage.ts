// Converts the `usage` block of an OpenAI / Azure embeddings response into the one usage shape.
import type { ConvertedUsage } from "../types.js";

/** Embeddings report `prompt_tokens` and `total_tokens` only: there is no completion. */
export interface OpenAIEmbeddingsUsage {
  prompt_tokens?: number | null;
  total_tokens?: number | null;
}

/** Pure. All of an embedding call's tokens are input: completion, cached and reasoning are 0. */
export function convertEmbeddingsUsage(usage: OpenAIEmbeddingsUsage | null | undefined, model: string): ConvertedUsage {
  if (usage == null) {
    return { usage: { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: false };
  }
  // total_tokens equals prompt_tokens on every payload we have; prompt is read from it when it is the only count.
  const prompt = usage.prompt_tokens ?? usage.total_tokens ?? 0;
  return { usage: { model, prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: true };
}
