// Builds the usage event of one call from what the tracker knows: the call's
// outcome, its timing, and the caller's nodeName and state.
import { randomUUID } from "node:crypto";
import type { Usage } from "../providers/types.js";
import { USAGE_EVENT_VERSION, type UsageEvent } from "./usage-event.js";

/** Who made the call and why; copied into the event's `user_id` and `metadata`. */
export interface TrackingState {
  /** Stored as text (numbers are stringified). */
  user_id?: string | number | null;
  source_type?: string | null;
  source_task_id?: string | null;
  source_path?: string | null;
  /** Merged into the event's metadata; see `buildMetadata` for precedence. */
  metadata?: Record<string, unknown> | null;
}

export interface EventParts {
  createdAt: Date;
  latencyMs: number | null;
  provider: string | null;
  usage: Usage;
  usageReported: boolean;
  deployment?: string | null;
  success: boolean;
  error: string | null;
  nodeName?: string;
  state?: TrackingState;
  /** Default false. */
  streamed?: boolean;
  /** Milliseconds to the first text or tool-call delta of a stream; null otherwise. */
  timeToFirstTokenMs?: number | null;
  /** `chat` (default), `embeddings`, … */
  operation?: string;
}

/**
 * `node_name`, `source_type`, `source_task_id`, `source_path`, plus the contents
 * of `state.metadata`. When `state.metadata` has one of those four keys, the
 * named value wins if it is given (stats group by them, so an explicit
 * `nodeName` is never relabelled by a stray metadata key); otherwise the
 * metadata's value is kept. Undefined values are left out.
 */
export function buildMetadata(nodeName: string | undefined, state: TrackingState | undefined): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(state?.metadata ?? {})) if (value !== undefined) metadata[key] = value;
  const named: Record<string, unknown> = {
    node_name: nodeName ?? "unknown",
    source_type: state?.source_type,
    source_task_id: state?.source_task_id,
    source_path: state?.source_path,
  };
  for (const [key, value] of Object.entries(named)) if (value !== undefined) metadata[key] = value;
  return metadata;
}

export function buildUsageEvent(parts: EventParts): UsageEvent {
  const userId = parts.state?.user_id;
  return {
    v: USAGE_EVENT_VERSION,
    id: randomUUID(),
    created_at: parts.createdAt.toISOString(),
    provider: parts.provider,
    model: parts.usage.model,
    deployment: parts.deployment ?? null,
    prompt_tokens: parts.usage.prompt_tokens,
    completion_tokens: parts.usage.completion_tokens,
    total_tokens: parts.usage.total_tokens,
    cached_tokens: parts.usage.cached_tokens,
    reasoning_tokens: parts.usage.reasoning_tokens,
    usage_reported: parts.usageReported,
    success: parts.success,
    error: parts.error,
    latency_ms: toWholeMs(parts.latencyMs),
    user_id: userId === undefined || userId === null ? null : String(userId),
    metadata: buildMetadata(parts.nodeName, parts.state),
    streamed: parts.streamed ?? false,
    time_to_first_token_ms: toWholeMs(parts.timeToFirstTokenMs ?? null),
    operation: parts.operation ?? "chat",
  };
}

/** A measured duration as the whole, non-negative milliseconds the columns hold. */
function toWholeMs(ms: number | null): number | null {
  return ms === null ? null : Math.max(0, Math.round(ms));
}
