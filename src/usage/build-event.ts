// Builds the usage event of one call from what the tracker knows: the call's
// outcome, its timing, and the caller's nodeName and state.
import type { Usage } from "../providers/types.js";
import { newEventId } from "./event-id.js";
import { isoTimestamp } from "./iso-timestamp.js";
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

/** Who and what made the call: known when it starts. */
export interface EventCall {
  createdAt: Date;
  provider: string | null;
  nodeName?: string | undefined;
  state?: TrackingState | undefined;
  /** Default false. */
  streamed?: boolean;
  /** `chat` (default), `embeddings`, … */
  operation?: string;
}

/** How the call ended. */
export interface EventOutcome {
  latencyMs: number | null;
  usage: Usage;
  usageReported: boolean;
  deployment?: string | null;
  success: boolean;
  error: string | null;
  /** Milliseconds to the first text or tool-call delta of a stream; null otherwise. */
  timeToFirstTokenMs?: number | null;
}

export type EventParts = EventCall & EventOutcome;

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

/**
 * The event of one call. Given the call and its outcome apart, it reads each from its own
 * object: copying a call's context into one object first (a spread) costs more, at the end of
 * a call that waited on the network, than the rest of the event together.
 */
export function buildUsageEvent(parts: EventParts): UsageEvent;
export function buildUsageEvent(outcome: EventOutcome, call: EventCall): UsageEvent;
export function buildUsageEvent(outcome: EventOutcome, call: EventCall = outcome as EventParts): UsageEvent {
  const userId = call.state?.user_id;
  return {
    v: USAGE_EVENT_VERSION,
    id: newEventId(),
    created_at: isoTimestamp(call.createdAt),
    provider: call.provider,
    model: outcome.usage.model,
    deployment: outcome.deployment ?? null,
    prompt_tokens: outcome.usage.prompt_tokens,
    completion_tokens: outcome.usage.completion_tokens,
    total_tokens: outcome.usage.total_tokens,
    cached_tokens: outcome.usage.cached_tokens,
    reasoning_tokens: outcome.usage.reasoning_tokens,
    usage_reported: outcome.usageReported,
    success: outcome.success,
    error: outcome.error,
    latency_ms: toWholeMs(outcome.latencyMs),
    user_id: userId === undefined || userId === null ? null : String(userId),
    metadata: buildMetadata(call.nodeName, call.state),
    streamed: call.streamed ?? false,
    time_to_first_token_ms: toWholeMs(outcome.timeToFirstTokenMs ?? null),
    operation: call.operation ?? "chat",
  };
}

/** A measured duration as the whole, non-negative milliseconds the columns hold. */
function toWholeMs(ms: number | null): number | null {
  return ms === null ? null : Math.max(0, Math.round(ms));
}
