// Maps a Gemini generateContent response to a ChatOutcome, telling empty answers apart.
import type { GenerateContentResponse } from "@google/genai";
import type { ChatOutcome, ToolCall } from "../types.js";
import { convertGeminiUsage } from "./convert-gemini-usage.js";
import { geminiToolCall } from "./gemini-tools.js";

// Finish reasons that mean a filter stopped the answer: empty even if some text came first,
// as OpenAI's `content_filter` is.
export const FILTERED_FINISH_REASONS: ReadonlySet<string> = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"]);

/** The answer text: the first candidate's text parts, thought summaries left out. */
export function geminiAnswerText(response: Pick<GenerateContentResponse, "candidates">): string {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts
    .filter((p) => !p.thought && typeof p.text === "string")
    .map((p) => p.text)
    .join("");
}

/** The first candidate's function calls, in order. */
export function geminiToolCalls(response: Pick<GenerateContentResponse, "candidates">): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const part of response.candidates?.[0]?.content?.parts ?? []) {
    const call = geminiToolCall(part);
    if (call) calls.push(call);
  }
  return calls;
}

/** Why the response holds no usable answer, or null when it does (text, or function calls). */
export function geminiEmptyReason(response: Pick<GenerateContentResponse, "candidates" | "promptFeedback">): string | null {
  const blockReason = response.promptFeedback?.blockReason;
  const candidate = response.candidates?.[0];
  if (!candidate) return blockReason ? `prompt_blocked:${blockReason}` : "no_candidates";
  const finish = candidate.finishReason;
  if (finish && FILTERED_FINISH_REASONS.has(finish)) return finish;
  if (geminiAnswerText(response) !== "") return null;
  if (candidate.content?.parts?.some((p) => p.functionCall)) return null;
  return finish && finish !== "STOP" ? finish : "empty_content";
}

export function toGeminiOutcome(response: GenerateContentResponse, requestedModel: string): ChatOutcome {
  const emptyReason = geminiEmptyReason(response);
  const { usage, usageReported } = convertGeminiUsage(response.usageMetadata, response.modelVersion || requestedModel);
  return {
    content: emptyReason === null ? geminiAnswerText(response) : null,
    toolCalls: emptyReason === null ? geminiToolCalls(response) : [],
    emptyReason,
    usage,
    usageReported,
    raw: response,
  };
}
