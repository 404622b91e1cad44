// Maps our ChatRequest to the body of POST /chat/completions (OpenAI and Azure alike).
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import type { ChatRequest } from "../types.js";

/** What a call falls back to when the request does not say. */
export interface OpenAIDefaults {
  model: string;
  maxTokens: number;
  temperature: number | undefined;
}

export function toOpenAIChatParams(request: ChatRequest, defaults: OpenAIDefaults): ChatCompletionCreateParamsNonStreaming {
  const temperature = request.temperature ?? defaults.temperature;
  const responseFormat = request.responseFormat ?? (request.jsonMode ? { type: "json_object" } : undefined);
  return {
    model: defaults.model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    // max_completion_tokens, not max_tokens: reasoning models (o-series, gpt-5) refuse
    // max_tokens with 400 unsupported_parameter, and every current chat model accepts this one.
    max_completion_tokens: request.maxTokens ?? defaults.maxTokens,
    // Sent only when configured or passed: reasoning models reject a non-default temperature.
    ...(temperature === undefined ? {} : { temperature }),
    ...(responseFormat === undefined ? {} : { response_format: responseFormat as unknown as ChatCompletionCreateParamsNonStreaming["response_format"] }),
  };
}
