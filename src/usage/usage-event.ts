// The usage event: one per provider call, made where the call happens, carried
// through the queue unchanged and written as one row. Producer and worker both
// import this module, so they can not disagree on the shape.
import { z } from "zod";

/** Bumped when the event shape changes incompatibly; the worker accepts the versions it knows. */
export const USAGE_EVENT_VERSION = 1;

/** Longest `error` text an event carries; longer messages are cut, so a row stays small. */
export const MAX_ERROR_LENGTH = 2_000;

const tokenCount = z.number().int().nonnegative();

export const usageEventSchema = z.object({
  v: z.literal(USAGE_EVENT_VERSION),
  /** UUID made at the call site; the row's primary key, so a redelivered event never makes a second row. */
  id: z.uuid(),
  /** When the call happened (ISO 8601 with offset), not when the worker wrote it. */
  created_at: z.iso.datetime({ offset: true }),
  provider: z.string().min(1).max(100).nullable(),
  model: z.string().max(500),
  /** Azure deployment name; responses report the base model, so the deployment is kept beside it. */
  deployment: z.string().max(500).nullable(),
  prompt_tokens: tokenCount,
  completion_tokens: tokenCount,
  total_tokens: tokenCount,
  cached_tokens: tokenCount,
  reasoning_tokens: tokenCount,
  /** false when the provider's response had no usage block and the counts are zeros. */
  usage_reported: z.boolean(),
  success: z.boolean(),
  error: z.string().max(MAX_ERROR_LENGTH).nullable(),
  latency_ms: z.number().int().nonnegative().nullable(),
  user_id: z.string().max(500).nullable(),
  /** node_name, source_type, source_task_id, source_path and the contents of state.metadata. */
  metadata: z.record(z.string(), z.unknown()),
  // Added after the first release: optional, so events from older producers
  // (still in a queue or a spool) stay valid; the row then gets the defaults.
  /** true when the answer was streamed. Default false. */
  streamed: z.boolean().optional(),
  /** Milliseconds from the call to its first text or tool-call delta; null when not streamed. Default null. */
  time_to_first_token_ms: z.number().int().nonnegative().nullable().optional(),
  /** What was asked of the provider: `chat`, `embeddings`, … Default `chat`. */
  operation: z.string().min(1).max(50).optional(),
});

export type UsageEvent = z.infer<typeof usageEventSchema>;
