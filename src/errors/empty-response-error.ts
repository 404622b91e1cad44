import type { Usage } from "../token-usage.js";
import { LLMTrackerError } from "./llm-tracker-error.js";

/**
 * Thrown when the provider answered but gave no usable content: null content,
 * a refusal, a content filter, a blocked prompt, no candidates. The call still
 * cost tokens, so `usage` keeps what the provider reported and `reason` says
 * why the answer was empty (for example `content_filter`, `refusal`, `SAFETY`).
 */
export class EmptyResponseError extends LLMTrackerError {
  constructor(
    readonly usage: Usage,
    readonly reason: string,
  ) {
    super("LLM returned empty response");
  }
}
