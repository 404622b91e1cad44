// The chunk objects an SDK hands out for a recorded SSE body: each `data:` payload parsed,
// `[DONE]` left out (both SDKs drop it), in order.
import { GenerateContentResponse } from "@google/genai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { loadSse, sseEvents } from "../fake-provider/fake-provider.js";

function payloads(name: string): unknown[] {
  return sseEvents(loadSse(name))
    .map((event) => event.trim())
    .filter((event) => event.startsWith("data:") && event !== "data: [DONE]")
    .map((event) => JSON.parse(event.slice("data:".length)) as unknown);
}

/** OpenAI / Azure chunks, as `for await (const chunk of stream)` yields them. */
export function openAIChunks(name: string): ChatCompletionChunk[] {
  return payloads(name) as ChatCompletionChunk[];
}

/** Gemini chunks as @google/genai yields them (GenerateContentResponse instances). */
export function geminiChunks(name: string): GenerateContentResponse[] {
  return payloads(name).map((payload) => Object.assign(new GenerateContentResponse(), payload));
}
