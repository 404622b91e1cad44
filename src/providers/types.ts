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

export type ChatRole = "system" | "user" | "assistant" | "tool";

/** A function tool, in OpenAI's shape (mapped to a Gemini function declaration). */
export interface FunctionTool {
  type: "function";
  function: {
    name: string;
    description?: string;
    /** JSON Schema of the arguments object. */
    parameters?: Record<string, unknown>;
  };
}

/**
 * Whether and which tool the model must call: `"auto"` (the model decides), `"none"`,
 * `"required"` (some tool), or one named function.
 */
export type ToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

/** A tool call the model made. */
export interface ToolCall {
  /** The provider's call id (Gemini gives none: then one is made up, starting `llmt_call_`). */
  id: string;
  name: string;
  /** The arguments as the JSON text the model produced (Gemini's args object, serialised). */
  arguments: string;
  /**
   * Gemini only: the thought signature that came with the call. Gemini 3 models refuse a
   * tool loop that does not send it back, so pass the tool call on as you received it.
   */
  thoughtSignature?: string;
}

/** A tool call inside an assistant message: ours (`{ id, name, arguments }`) or OpenAI's own shape. */
export type AssistantToolCall = ToolCall | { id: string; type: "function"; function: { name: string; arguments: string }; thoughtSignature?: string };

export interface SystemMessage {
  role: "system";
  content: string;
}

export interface UserMessage {
  role: "user";
  content: string;
}

export interface AssistantMessage {
  role: "assistant";
  /** May be null or "" when the message only carries tool calls. */
  content: string | null;
  tool_calls?: AssistantToolCall[];
}

/** The result of one tool call, sent back to the model. */
export interface ToolMessage {
  role: "tool";
  /** The `id` of the tool call this answers. */
  tool_call_id: string;
  content: string;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

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
  /** Function tools the model may call. */
  tools?: FunctionTool[];
  /** Default: the provider's own (`auto` when tools are given). */
  toolChoice?: ToolChoice;
}

export interface ChatResult {
  /** The answer text; `""` when the answer is only tool calls. */
  content: string;
  usage: Usage;
  /** The tool calls the model made, in order; `[]` when none. */
  toolCalls: ToolCall[];
  /** The provider's own response, only when `rawResponse` was true. */
  raw?: unknown;
}

/**
 * The outcome of one provider call as the tracker needs it: content may be
 * empty (`emptyReason` says why), usage is always known.
 */
export interface ChatOutcome {
  content: string | null;
  toolCalls: ToolCall[];
  /** Set when the answer is empty: `null_content`, `refusal`, `content_filter`, `SAFETY`, `no_candidates`, … */
  emptyReason: string | null;
  usage: Usage;
  usageReported: boolean;
  /** Azure deployment name that served the call, when the provider is Azure. */
  deployment?: string;
  raw: unknown;
}

/** What a streamed answer has carried so far, as a provider's stream accumulator sees it. */
export interface StreamSnapshot {
  /** The model the provider reported (null until a chunk named it). */
  model: string | null;
  /** The answer text so far (Gemini thought summaries left out). */
  content: string;
  /** Tool calls so far, arguments as assembled from their deltas. */
  toolCalls: ToolCall[];
  /** The provider's last usage report, converted; null when none arrived. */
  usage: Usage | null;
  /**
   * Whether that report counts the answer received. False when Gemini's last report has no
   * `candidatesTokenCount` though answer text came (Gemini reports candidates on the last chunk).
   */
  completionReported: boolean;
  /** The provider said the answer is complete (a finish reason, a blocked prompt, OpenAI's usage chunk). */
  finished: boolean;
  /** Set when the finished answer is not usable: `content_filter`, `refusal`, `SAFETY`, `prompt_blocked:…`, `empty_content`. */
  emptyReason: string | null;
}

/**
 * Turns a provider's stream chunks (the SDK's own objects) into our terms, one chunk at a
 * time. Pure: no I/O, no clock. The SDK wrappers reuse these over streams the caller made.
 */
export interface StreamAccumulator<Chunk> {
  /**
   * Takes one chunk. Returns its answer text, `""` when it carried only a tool-call delta,
   * or null when it carried no output (a usage-only, role-only or filter-annotation chunk).
   */
  add(chunk: Chunk): string | null;
  /** What the stream carried so far; callable at any time, including after an early end. */
  snapshot(): StreamSnapshot;
}

/** An open provider stream: the SDK's chunk iterator, its accumulator, and a way to stop it. */
export interface OpenedStream<Chunk = unknown> {
  chunks: AsyncIterator<Chunk>;
  accumulator: StreamAccumulator<Chunk>;
  /** Aborts the HTTP request (frees the connection). Idempotent. */
  cancel(reason?: unknown): void;
  /**
   * The stream ended by itself: drops what was kept for cancelling (listeners) without
   * aborting, which would cost the request's cleanup a second time.
   */
  release(): void;
  /** Whether an error thrown while reading is the provider's own (an error event in the stream), not a transport failure. */
  isProviderError(error: unknown): boolean;
  /** Azure deployment name, when the provider is Azure. */
  deployment?: string;
}

export interface StreamRequest extends Omit<ChatRequest, "rawResponse"> {
  /** Aborts the request and the stream. */
  signal?: AbortSignal;
}

export interface LlmService {
  readonly provider: ProviderName;
  /** Calls the provider; throws `EmptyResponseError` for an empty answer and the SDK's own error otherwise. */
  chat(request: ChatRequest): Promise<ChatResult>;
  /** Calls the provider and reports empty answers as data instead of throwing; used by the tracker. */
  complete(request: ChatRequest): Promise<ChatOutcome>;
  /**
   * Opens a streamed call. Resolves once the provider answered with a stream (throws what
   * the SDK throws before that: 401, 429, …); the chunks are read through the result.
   */
  openStream(request: StreamRequest): Promise<OpenedStream>;
}
