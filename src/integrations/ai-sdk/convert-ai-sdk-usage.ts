// Converts the Vercel AI SDK's language-model usage (specification V3, AI SDK 6) into the one usage shape.
import type { ConvertedUsage } from "../../providers/types.js";

/** LanguageModelV3Usage: every count may be undefined when the provider did not report it. */
export interface AiSdkUsage {
  inputTokens?: { total?: number | undefined; noCache?: number | undefined; cacheRead?: number | undefined; cacheWrite?: number | undefined } | null;
  outputTokens?: { total?: number | undefined; text?: number | undefined; reasoning?: number | undefined } | null;
}

/**
 * Pure. V3 usage is already normalised by the provider package: `inputTokens.total` includes
 * the cached reads (`cacheRead`) and `outputTokens.total` includes `reasoning`, the same
 * subsets as ours. Reported when either total is known; total_tokens is their sum.
 */
export function convertAiSdkUsage(usage: AiSdkUsage | null | undefined, model: string): ConvertedUsage {
  const input = usage?.inputTokens;
  const output = usage?.outputTokens;
  const reported = typeof input?.total === "number" || typeof output?.total === "number";
  const prompt = input?.total ?? 0;
  const completion = output?.total ?? 0;
  return {
    usage: {
      model,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_tokens: input?.cacheRead ?? 0,
      reasoning_tokens: output?.reasoning ?? 0,
    },
    usageReported: reported,
  };
}
