// Converts the `usage` block of an OpenAI Responses API response into the one usage shape.
import type { ConvertedUsage } from "../types.js";

/** The Responses API's usage block as it arrives; any field may be missing (gateways, compatible servers). */
export interface OpenAIResponsesUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  total_tokens?: number | null;
  input_tokens_details?: { cached_tokens?: number | null } | null;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/**
 * Pure. The Responses API names its counts `input_tokens` / `output_tokens`; as in chat
 * completions, `cached_tokens` is already part of the input and `reasoning_tokens` part of
 * the output, so they are subsets as they are. A response without usage (a `response.created`
 * event, a failed background response) is reported as none.
 */
export function convertResponsesUsage(usage: OpenAIResponsesUsage | null | undefined, model: string): ConvertedUsage {
  if (usage == null) {
    return { usage: { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: false };
  }
  const prompt = usage.input_tokens ?? 0;
  const completion = usage.output_tokens ?? 0;
  return {
    usage: {
      model,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: usage.total_tokens ?? prompt + completion,
      cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0,
      reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0,
    },
    usageReported: true,
  };
}
