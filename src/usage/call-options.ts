// The options and results of LLMTracker's tracked calls.
import type { ChatMessage, FunctionTool, ToolCall, ToolChoice, Usage } from "../providers/types.js";
import type { TrackingState } from "./build-event.js";

export interface CallAndTrackOptions {
  /**
   * Required, non-empty; each `{ role, content }` with role `system`, `user` or `assistant`,
   * and to continue a tool loop `{ role: "assistant", content, tool_calls }` and
   * `{ role: "tool", tool_call_id, content }`.
   */
  messages: ChatMessage[];
  /** Ask for a JSON object answer. Default false. */
  jsonMode?: boolean;
  /** Default: the provider config's `max_tokens`. */
  maxTokens?: number;
  /** Default: the provider config's `temperature`. */
  temperature?: number;
  /** Passed to the provider's response format. */
  responseFormat?: Record<string, unknown>;
  /** Function tools the model may call (OpenAI's shape; mapped to Gemini's function declarations). Default none. */
  tools?: FunctionTool[];
  /** `"auto"`, `"none"`, `"required"` or `{ type: "function", function: { name } }`. Default: the provider's (`auto` with tools). */
  toolChoice?: ToolChoice;
  /** Stored as `metadata.node_name`. Default `"unknown"`. */
  nodeName?: string;
  /** `user_id`, `source_type`, `source_task_id`, `source_path`, `metadata`. */
  state?: TrackingState;
}

export interface CallAndTrackResult {
  /** The answer text; `""` when the answer is only tool calls. */
  content: string;
  usage: Usage;
  /** The tool calls the model made, in order; `[]` when none. */
  toolCalls: ToolCall[];
}

export interface StreamAndTrackOptions extends CallAndTrackOptions {
  /** Aborts the request, or the stream midway (recorded as ended early, aborted by the caller). */
  signal?: AbortSignal;
}
