// Opens a streamed chat completion through the openai SDK (OpenAI, Azure deployment, Azure v1)
// and hands back the SDK's own chunk iterator with our accumulator beside it.
import { APIError, type OpenAI } from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import type { OpenedStream, StreamRequest } from "../types.js";
import { type OpenAIDefaults, toOpenAIStreamParams } from "./openai-chat-params.js";
import { OpenAIStreamAccumulator } from "./openai-stream-accumulator.js";

/**
 * Resolves when the response headers arrived; throws the SDK's error before that (401,
 * 429 after retries, a connection refused, `APIUserAbortError` for an aborted signal).
 * The caller's signal is passed to the SDK, which aborts the body read with it too.
 */
export async function openOpenAIStream(client: OpenAI, request: StreamRequest, defaults: OpenAIDefaults, deployment?: string): Promise<OpenedStream<ChatCompletionChunk>> {
  const stream = await client.chat.completions.create(toOpenAIStreamParams(request, defaults), request.signal ? { signal: request.signal } : undefined);
  return {
    chunks: stream[Symbol.asyncIterator](),
    accumulator: new OpenAIStreamAccumulator(defaults.model),
    cancel: () => stream.controller.abort(),
    release: () => {},
    isProviderError: (error) => error instanceof APIError,
    ...(deployment === undefined ? {} : { deployment }),
  };
}
