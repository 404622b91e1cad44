// Maps our ChatRequest to the body of POST /chat/completions (OpenAI and Azure alike).
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from "openai/resources/chat/completions";
import type { AssistantToolCall, ChatMessage, ChatRequest, ToolChoice } from "../types.js";

/** What a call falls back to when the request does not say. */
export interface OpenAIDefaults {
  model: string;
  maxTokens: number;
  temperature: number | undefined;
}

/** A tool call of an assistant message in OpenAI's wire shape, whichever shape the caller used. */
function toOpenAIToolCall(call: AssistantToolCall) {
  const fn = "function" in call ? call.function : { name: call.name, arguments: call.arguments };
  return { id: call.id, type: "function" as const, function: { name: fn.name, arguments: fn.arguments } };
}

function toOpenAIMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "assistant":
      return message.tool_calls && message.tool_calls.length > 0
        ? { role: "assistant", content: message.content === "" ? null : message.content, tool_calls: message.tool_calls.map(toOpenAIToolCall) }
        : { role: "assistant", content: message.content ?? "" };
    case "tool":
      return { role: "tool", tool_call_id: message.tool_call_id, content: message.content };
    default:
      return { role: message.role, content: message.content };
  }
}

function toOpenAIToolChoice(choice: ToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.function.name } };
}

export function toOpenAIChatParams(request: Omit<ChatRequest, "rawResponse">, defaults: OpenAIDefaults): ChatCompletionCreateParamsNonStreaming {
  const temperature = request.temperature ?? defaults.temperature;
  const responseFormat = request.responseFormat ?? (request.jsonMode ? { type: "json_object" } : undefined);
  const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
  return {
    model: defaults.model,
    messages: request.messages.map(toOpenAIMessage),
    // max_completion_tokens, not max_tokens: reasoning models (o-series, gpt-5) refuse
    // max_tokens with 400 unsupported_parameter, and every current chat model accepts this one.
    max_completion_tokens: request.maxTokens ?? defaults.maxTokens,
    // Sent only when configured or passed: reasoning models reject a non-default temperature.
    ...(temperature === undefined ? {} : { temperature }),
    ...(responseFormat === undefined ? {} : { response_format: responseFormat as unknown as ChatCompletionCreateParamsNonStreaming["response_format"] }),
    ...(tools === undefined ? {} : { tools }),
    ...(request.toolChoice === undefined ? {} : { tool_choice: toOpenAIToolChoice(request.toolChoice) }),
  };
}

/**
 * The same body as a stream. `stream_options.include_usage` is always asked for: without it
 * OpenAI and Azure send no usage at all for a stream (Azure needs api-version 2024-10-21 or later).
 */
export function toOpenAIStreamParams(request: Omit<ChatRequest, "rawResponse">, defaults: OpenAIDefaults): ChatCompletionCreateParamsStreaming {
  return { ...toOpenAIChatParams(request, defaults), stream: true, stream_options: { include_usage: true } };
}
