// The OpenAI adapter: our request → openai SDK call → ChatOutcome. Azure reuses it with its own client.
import OpenAI from "openai";
import type { OpenAISettings, ProviderSettings } from "../../config/settings.js";
import { chatResultOf } from "../chat-from-outcome.js";
import type { ChatOutcome, ChatRequest, ChatResult, LlmService, OpenedStream, ProviderName, StreamRequest } from "../types.js";
import { type OpenAIDefaults, toOpenAIChatParams } from "./openai-chat-params.js";
import { toOpenAIOutcome } from "./openai-outcome.js";
import { openOpenAIStream } from "./openai-stream.js";
import { refuseLongRetryAfter } from "./refuse-long-retry-after.js";

/** A chat service over any OpenAI-compatible client (OpenAI itself, AzureOpenAI, Azure v1). */
export class OpenAIChatService implements LlmService {
  constructor(
    readonly provider: ProviderName,
    private readonly client: OpenAI,
    private readonly defaults: OpenAIDefaults,
    /** Azure deployment name, reported on every outcome. */
    private readonly deployment?: string,
  ) {}

  async complete(request: ChatRequest): Promise<ChatOutcome> {
    const completion = await this.client.chat.completions.create(toOpenAIChatParams(request, this.defaults));
    return toOpenAIOutcome(completion, this.defaults.model, this.deployment);
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    return chatResultOf(await this.complete(request), request);
  }

  openStream(request: StreamRequest): Promise<OpenedStream> {
    return openOpenAIStream(this.client, request, this.defaults, this.deployment) as Promise<OpenedStream>;
  }
}

/** Client options every OpenAI-style client shares: bounded timeout and retries. */
export function commonClientOptions(settings: Pick<ProviderSettings, "timeoutMs" | "maxRetries">) {
  return { timeout: settings.timeoutMs, maxRetries: settings.maxRetries, fetch: refuseLongRetryAfter() };
}

export function createOpenAIService(settings: OpenAISettings & Pick<ProviderSettings, "timeoutMs" | "maxRetries">): LlmService {
  const client = new OpenAI({
    apiKey: settings.apiKey,
    // Passed even when undefined would do, so OPENAI_BASE_URL is read once, by our settings.
    baseURL: settings.baseURL ?? "https://api.openai.com/v1",
    ...commonClientOptions(settings),
  });
  return new OpenAIChatService("openai", client, settings);
}
