// The Gemini adapter: our request → @google/genai generateContent → ChatOutcome.
import { GoogleGenAI } from "@google/genai";
import type { GeminiSettings, ProviderSettings } from "../../config/settings.js";
import { chatResultOf } from "../chat-from-outcome.js";
import type { ChatOutcome, ChatRequest, ChatResult, LlmService, OpenedStream, StreamRequest } from "../types.js";
import { toGeminiOutcome } from "./gemini-outcome.js";
import { toGeminiParams } from "./gemini-request.js";
import { openGeminiStream } from "./gemini-stream.js";

/**
 * @google/genai 2.x retries only when given `retryOptions`, with exponential backoff that
 * never reads `retry-after` (its default cap is 60 s per wait). We give it `maxRetries`
 * attempts after the first, starting at 0.5 s and capped at 8 s per wait, the openai
 * SDK's own schedule, so a 429 asking for a day costs seconds, not a day.
 */
const RETRY_INITIAL_DELAY_S = 0.5;
const RETRY_MAX_DELAY_S = 8;

export class GeminiChatService implements LlmService {
  readonly provider = "gemini" as const;
  private readonly client: GoogleGenAI;

  constructor(private readonly settings: GeminiSettings & Pick<ProviderSettings, "timeoutMs" | "maxRetries">) {
    this.client = new GoogleGenAI({
      apiKey: settings.apiKey,
      vertexai: false,
      httpOptions: {
        ...(settings.baseURL === undefined ? {} : { baseUrl: settings.baseURL }),
        timeout: settings.timeoutMs,
        retryOptions: { attempts: settings.maxRetries + 1, initialDelay: RETRY_INITIAL_DELAY_S, maxDelay: RETRY_MAX_DELAY_S },
      },
    });
  }

  async complete(request: ChatRequest): Promise<ChatOutcome> {
    const response = await this.client.models.generateContent(toGeminiParams(request, this.settings));
    return toGeminiOutcome(response, this.settings.model);
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    return chatResultOf(await this.complete(request), request);
  }

  openStream(request: StreamRequest): Promise<OpenedStream> {
    return openGeminiStream(this.client, request, this.settings) as Promise<OpenedStream>;
  }
}

export function createGeminiService(settings: GeminiSettings & Pick<ProviderSettings, "timeoutMs" | "maxRetries">): LlmService {
  return new GeminiChatService(settings);
}
