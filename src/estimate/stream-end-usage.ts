// The usage recorded for a stream when it ends: the provider's own report when it counts
// everything received, an estimate for what it does not count.
import type { StreamSnapshot, Usage } from "../providers/types.js";
import { countTokens } from "./count-tokens.js";

export interface StreamEndUsage {
  usage: Usage;
  /** false when any count is an estimate (the row's `usage_reported`). */
  usageReported: boolean;
}

/**
 * The framing a provider counts around each tool call of an answer, beyond its name and
 * arguments: 8 tokens in both recorded tool-call answers we have (OpenAI gpt-3.5-turbo
 * 21 = 13 + 8, Gemini 2.5 Flash 22 = 14 + 8; see docs/streaming-and-tools.md).
 */
export const TOOL_CALL_OVERHEAD_TOKENS = 8;

/** Tokens of the answer received: its text plus each tool call's name, arguments and framing. */
export function estimateCompletionTokens(snapshot: Pick<StreamSnapshot, "content" | "toolCalls">, model: string): number {
  let total = countTokens(snapshot.content, model);
  for (const call of snapshot.toolCalls) total += TOOL_CALL_OVERHEAD_TOKENS + countTokens(call.name, model) + countTokens(call.arguments, model);
  return total;
}

/**
 * Pure apart from loading the tokenizer. Three cases:
 * - the provider's last report counts the answer received (OpenAI's usage chunk, Gemini's
 *   last `usageMetadata` with `candidatesTokenCount`): that report, as it is;
 * - Gemini reported, but not the answer text received (its early chunks carry the prompt and
 *   thoughts only): the reported prompt, cached and thought counts, plus the answer estimated
 *   from the text received (never less than what Gemini did report for it);
 * - no report at all: prompt estimated by `estimatePrompt` (called only then), completion
 *   estimated from the text and tool calls received, cached and reasoning 0.
 */
export function streamEndUsage(snapshot: StreamSnapshot, estimatePrompt: () => number, fallbackModel: string): StreamEndUsage {
  const model = snapshot.model ?? snapshot.usage?.model ?? fallbackModel;
  const reported = snapshot.usage;
  if (reported && snapshot.completionReported) return { usage: reported, usageReported: true };
  if (reported) {
    const answer = Math.max(reported.completion_tokens - reported.reasoning_tokens, estimateCompletionTokens(snapshot, model));
    const completion = reported.reasoning_tokens + answer;
    return { usage: { ...reported, completion_tokens: completion, total_tokens: reported.prompt_tokens + completion }, usageReported: false };
  }
  const prompt = estimatePrompt();
  const completion = estimateCompletionTokens(snapshot, model);
  return {
    usage: { model, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cached_tokens: 0, reasoning_tokens: 0 },
    usageReported: false,
  };
}
