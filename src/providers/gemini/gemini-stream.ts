// Opens a streamed generateContent (alt=sse) through @google/genai and hands back the
// SDK's own chunk iterator with our accumulator beside it.
import { ApiError, type GenerateContentResponse, type GoogleGenAI } from "@google/genai";
import type { OpenedStream, StreamRequest } from "../types.js";
import { type GeminiDefaults, toGeminiParams } from "./gemini-request.js";
import { GeminiStreamAccumulator } from "./gemini-stream-accumulator.js";

/**
 * Resolves when the response headers arrived; throws the SDK's ApiError before that.
 * The request runs under our own AbortController, tied to the caller's signal: the SDK's
 * generator only releases its reader when left early, so cancelling is what closes the
 * connection of a stream nobody reads any more.
 */
export async function openGeminiStream(client: GoogleGenAI, request: StreamRequest, defaults: GeminiDefaults): Promise<OpenedStream<GenerateContentResponse>> {
  const controller = new AbortController();
  const signal = request.signal;
  const onAbort = () => controller.abort(signal?.reason);
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  const params = toGeminiParams(request, defaults);
  params.config = { ...params.config, abortSignal: controller.signal };
  let generator: AsyncGenerator<GenerateContentResponse>;
  try {
    generator = await client.models.generateContentStream(params);
  } catch (error) {
    signal?.removeEventListener("abort", onAbort);
    throw error;
  }
  return {
    chunks: generator,
    accumulator: new GeminiStreamAccumulator(defaults.model),
    release: () => signal?.removeEventListener("abort", onAbort),
    cancel: (reason?: unknown) => {
      signal?.removeEventListener("abort", onAbort);
      if (!controller.signal.aborted) controller.abort(reason);
    },
    isProviderError: (error) => error instanceof ApiError,
  };
}
