// Maps an OpenAI / Azure chat completion to a ChatOutcome, telling empty answers apart.
import type { ChatCompletion, ChatCompletionMessageToolCall } from "openai/resources/chat/completions";
import type { ChatOutcome, ToolCall } from "../types.js";
import { convertOpenAIUsage } from "./convert-openai-usage.js";

/** The function tool calls of a message, in our shape (custom tools carry no JSON arguments and are left out). */
export function openAIToolCalls(calls: readonly ChatCompletionMessageToolCall[] | null | undefined): ToolCall[] {
  if (!calls || calls.length === 0) return [];
  const result: ToolCall[] = [];
  for (const call of calls) {
    if (call.type === "function") result.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
  }
  return result;
}

/**
 * Why the first choice is not a usable answer, or null when it is. A filtered answer
 * is empty even when some text came before the filter stopped it; `length` with text
 * is a real (truncated) answer; tool calls without text are a real answer.
 */
export function openAIEmptyReason(completion: ChatCompletion): string | null {
  const choice = completion.choices?.[0];
  if (!choice) return "no_choices";
  if (choice.finish_reason === "content_filter") return "content_filter";
  const message = choice.message;
  if (message?.refusal) return "refusal";
  if (typeof message?.content === "string" && message.content !== "") return null;
  if (openAIToolCalls(message?.tool_calls).length > 0) return null;
  // Nothing came back: say the finish reason when it explains it (`length`: reasoning used the budget).
  if (choice.finish_reason && choice.finish_reason !== "stop") return choice.finish_reason;
  return message?.content == null ? "null_content" : "empty_content";
}

export function toOpenAIOutcome(completion: ChatCompletion, requestedModel: string, deployment?: string): ChatOutcome {
  const emptyReason = openAIEmptyReason(completion);
  const { usage, usageReported } = convertOpenAIUsage(completion.usage, completion.model || requestedModel);
  const message = completion.choices?.[0]?.message;
  return {
    content: emptyReason === null ? (message?.content ?? "") : null,
    toolCalls: emptyReason === null ? openAIToolCalls(message?.tool_calls) : [],
    emptyReason,
    usage,
    usageReported,
    ...(deployment === undefined ? {} : { deployment }),
    raw: completion,
  };
}
