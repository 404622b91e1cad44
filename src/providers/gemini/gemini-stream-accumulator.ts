// Folds Gemini stream chunks (GenerateContentResponse objects) into the answer so far:
// text, function calls, the finish reason, and the last usageMetadata.
import type { GenerateContentResponse } from "@google/genai";
import type { StreamAccumulator, StreamSnapshot, ToolCall, Usage } from "../types.js";
import { convertGeminiUsage, type GeminiUsageMetadata } from "./convert-gemini-usage.js";
import { FILTERED_FINISH_REASONS } from "./gemini-outcome.js";
import { geminiToolCall } from "./gemini-tools.js";

/**
 * Pure, one instance per stream. What the wire does that this handles:
 * - `usageMetadata` is a running total, repeated on every chunk: the last one is the usage,
 *   and summing them would count the prompt once per chunk;
 * - Gemini 2.x reports `candidatesTokenCount` only once the answer is finished (earlier
 *   chunks carry the prompt, and thinking models `thoughtsTokenCount`, alone), and Vertex
 *   may send `usageMetadata` on the last chunk only: so whether the last report counts the
 *   answer received is tracked, for an early end to estimate what it does not count;
 * - `thoughtsTokenCount` is outside `candidatesTokenCount` (convertGeminiUsage adds them);
 * - thought-summary parts (`thought: true`) are not answer text;
 * - a function call arrives whole, in one part.
 */
export class GeminiStreamAccumulator implements StreamAccumulator<GenerateContentResponse> {
  private readonly texts: string[] = [];
  private readonly toolCalls: ToolCall[] = [];
  private model: string | null = null;
  private usage: GeminiUsageMetadata | null = null;
  private completionReported = true;
  private finishReason: string | null = null;
  private blockReason: string | null = null;
  private sawCandidate = false;

  constructor(private readonly requestedModel: string) {}

  add(chunk: GenerateContentResponse): string | null {
    if (chunk.modelVersion) this.model = chunk.modelVersion;
    if (chunk.promptFeedback?.blockReason) this.blockReason = chunk.promptFeedback.blockReason;
    let output: string | null = null;
    const candidate = chunk.candidates?.[0];
    if (candidate) {
      this.sawCandidate = true;
      if (candidate.finishReason) this.finishReason = candidate.finishReason;
      const parts = candidate.content?.parts;
      if (parts) {
        for (const part of parts) {
          if (part.functionCall) {
            const call = geminiToolCall(part);
            if (call) this.toolCalls.push(call);
            output ??= "";
          } else if (typeof part.text === "string" && part.text !== "" && !part.thought) {
            this.texts.push(part.text);
            output = output ? output + part.text : part.text;
          }
        }
      }
    }
    const usage = chunk.usageMetadata;
    if (usage) {
      this.usage = usage;
      this.completionReported = usage.candidatesTokenCount != null || (this.texts.length === 0 && this.toolCalls.length === 0);
    } else if (output !== null) {
      this.completionReported = false;
    }
    return output;
  }

  snapshot(): StreamSnapshot {
    const content = this.texts.join("");
    const model = this.model ?? this.requestedModel;
    const usage: Usage | null = this.usage ? convertGeminiUsage(this.usage, model).usage : null;
    const finished = this.finishReason !== null || this.blockReason !== null;
    return {
      model: this.model,
      content,
      toolCalls: this.toolCalls.slice(),
      usage,
      completionReported: this.completionReported,
      finished,
      emptyReason: finished ? this.emptyReason(content) : null,
    };
  }

  /** The same rules as a non-streamed answer (geminiEmptyReason). */
  private emptyReason(content: string): string | null {
    if (!this.sawCandidate) return this.blockReason ? `prompt_blocked:${this.blockReason}` : "no_candidates";
    const finish = this.finishReason;
    if (finish && FILTERED_FINISH_REASONS.has(finish)) return finish;
    if (content !== "" || this.toolCalls.length > 0) return null;
    return finish && finish !== "STOP" ? finish : "empty_content";
  }
}
