// The one chat interface every provider adapter speaks, over the one usage shape.
import type { ProviderName } from "../config/settings.js";
import type { Usage } from "../token-usage.js";

export type { ProviderName } from "../config/settings.js";
export type { Usage } from "../token-usage.js";

/** What a provider's usage converter returns: the usage plus whether the provider reported any. */
export interface ConvertedUsage {
  usage: Usage;
  /** false when the response carried no usage block; the counts are then zeros. */
  usageReported: boolean;
}

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Upper bound on completion tokens; defaults to the provider config's `max_tokens`. */
  maxTokens?: number;
  /** Defaults to the provider config's `temperature`. */
  temperature?: number;
  /** Ask for a JSON object answer. Default false. */
  jsonMode?: boolean;
  /** Passed to the provider's response format (an OpenAI `json_schema` maps to Gemini's response schema). */
  responseFormat?: Record<string, unknown>;
  /** Include the provider's own response as `raw`. Default false. */
  rawResponse?: boolean;
}

export interface ChatResult {
  content: string;
  usage: Usage;
  /** The provider's own response, only when `rawResponse` was true. */
  raw?: unknown;
}

/**
 * The outcome of one provider call as the tracker needs it: content may be
 * empty (`emptyReason` says why), usage is always known.
 */
export interface ChatOutcome {
  content: string | null;
  /** Set when the answer is empty: `null_content`, `refusal`, `content_filter`, `SAFETY`, `no_candidates`, … */
  emptyReason: string | null;
  usage: Usage;
  usageReported: boolean;
  /** Azure deployment name that served the call, when the provider is Azure. */
  deployment?: string;
  raw: unknown;
}

export interface LlmService {
  readonly provider: ProviderName;
  /** Calls the provider; throws `EmptyResponseError` for an empty answer and the SDK's own error otherwise. */
  chat(request: ChatRequest): Promise<ChatResult>;
  /** Calls the provider and reports empty answers as data instead of throwing; used by the tracker. */
  complete(request: ChatRequest): Promise<ChatOutcome>;
}
