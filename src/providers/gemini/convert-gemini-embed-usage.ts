// Converts a Gemini `embedContent` response into the one usage shape, when it reports any.
import type { ConvertedUsage } from "../types.js";

/** The parts of an EmbedContentResponse that can count tokens. */
export interface GeminiEmbedResponse {
  embeddings?: { statistics?: { tokenCount?: number | null } | null }[] | null;
}

/**
 * Pure. The Gemini API's embeddings carry no token count at all (`batchEmbedContents`
 * answers `{ embeddings: [{ values }] }`); Vertex AI's carry `statistics.tokenCount` per
 * embedding, summed here. Null when none is reported: the caller estimates the input.
 */
export function convertGeminiEmbedUsage(response: GeminiEmbedResponse | null | undefined, model: string): ConvertedUsage | null {
  let counted = false;
  let prompt = 0;
  for (const embedding of response?.embeddings ?? []) {
    const count = embedding?.statistics?.tokenCount;
    if (typeof count === "number") {
      counted = true;
      prompt += count;
    }
  }
  if (!counted) return null;
  return { usage: { model, prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: true };
}
