// Parses LLMTracker.record()'s input once, at the edge: a malformed field
// throws InvalidInputError naming it, before anything is handed over.
import { z } from "zod";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import type { Usage } from "../providers/types.js";
import type { EventParts, TrackingState } from "./build-event.js";
import { redactSecrets, truncate } from "./error-message.js";

export interface RecordOptions {
  /** `model`, `prompt_tokens`, `completion_tokens` required; `total_tokens` defaults to their sum, `cached_tokens`/`reasoning_tokens` to 0. */
  usage: Partial<Usage> & Pick<Usage, "model" | "prompt_tokens" | "completion_tokens">;
  /** Provider name stored with the event. Default null. */
  provider?: string | null;
  /** Default true. */
  success?: boolean;
  /** Error text of a failed call; redacted and cut like the tracker's own. Default null. */
  error?: string | null;
  /** Default null (unknown). */
  latencyMs?: number | null;
  /** Stored as `metadata.node_name`. Default `"unknown"`. */
  nodeName?: string;
  state?: TrackingState;
  /** When the call happened: a Date or an ISO 8601 string. Default now. */
  createdAt?: Date | string;
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const usageSchema = z.object({
  model: z.string().max(500),
  prompt_tokens: count,
  completion_tokens: count,
  total_tokens: count.optional(),
  cached_tokens: count.optional(),
  reasoning_tokens: count.optional(),
});
const nullableText = z.string().nullable().optional();
const stateSchema = z
  .object({
    user_id: z.union([z.string().max(500), z.number()]).nullable().optional(),
    source_type: nullableText,
    source_task_id: nullableText,
    source_path: nullableText,
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .optional();
const recordSchema = z.object({
  usage: usageSchema,
  provider: z.string().min(1).max(100).nullable().optional(),
  success: z.boolean().optional(),
  error: z.string().nullable().optional(),
  latencyMs: z.number().nonnegative().finite().nullable().optional(),
  nodeName: z.string().optional(),
  state: stateSchema,
  createdAt: z.union([z.date(), z.string()]).optional(),
});

function parseCreatedAt(value: Date | string | undefined): Date {
  if (value === undefined) return new Date();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidInputError("createdAt", "is an invalid Date");
    return value;
  }
  const iso = z.iso.datetime({ offset: true, local: true }).or(z.iso.date()).safeParse(value);
  const date = new Date(value);
  if (!iso.success || Number.isNaN(date.getTime())) throw new InvalidInputError("createdAt", "must be a Date or an ISO 8601 string");
  return date;
}

export function parseRecordInput(options: RecordOptions, apiKey: () => string | undefined): EventParts {
  const parsed = recordSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join(".") : "options";
    throw new InvalidInputError(field, issue?.message ?? "is invalid");
  }
  const input = parsed.data;
  const { usage } = input;
  const total = usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens;
  const success = input.success ?? true;
  return {
    createdAt: parseCreatedAt(input.createdAt),
    latencyMs: input.latencyMs ?? null,
    provider: input.provider ?? null,
    usage: {
      model: usage.model,
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: total,
      cached_tokens: usage.cached_tokens ?? 0,
      reasoning_tokens: usage.reasoning_tokens ?? 0,
    },
    usageReported: true,
    success,
    error: input.error ? truncate(redactSecrets(input.error, [apiKey()])) : null,
    nodeName: input.nodeName,
    state: input.state ?? undefined,
  };
}
