// chat() is complete() plus the contract's rule: an empty answer throws EmptyResponseError.
import { EmptyResponseError } from "../errors/empty-response-error.js";
import type { ChatOutcome, ChatRequest, ChatResult } from "./types.js";

export function chatResultOf(outcome: ChatOutcome, request: ChatRequest): ChatResult {
  if (outcome.content === null) throw new EmptyResponseError(outcome.usage, outcome.emptyReason ?? "empty_content");
  const result: ChatResult = { content: outcome.content, usage: outcome.usage, toolCalls: outcome.toolCalls };
  if (request.rawResponse) result.raw = outcome.raw;
  return result;
}
