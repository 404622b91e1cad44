// Checks one queued event before it may join a batch, and sanitises what
// Postgres would otherwise reject, so one bad event never costs a whole batch.
// Hot path (every event): a hand-written check of the common valid shape and a
// read-only scan of its strings; zod and the copying clean-up run only for the
// rest, so a refused event still gets zod's message.
import { usageEventSchema, type UsageEvent } from "../src/usage/usage-event.js";

/**
 * Largest accepted `metadata`, serialised as JSON (64 KiB). Bigger metadata
 * makes the event poison: rows stay small and a runaway payload can not fill the table.
 */
export const MAX_METADATA_BYTES = 64 * 1024;

/** Largest value of an int4 column (token counts, latency_ms). */
const INT4_MAX = 2_147_483_647;

const COUNT_FIELDS = ["prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens", "latency_ms", "time_to_first_token_ms"] as const;

export type PreparedEvent = { ok: true; event: UsageEvent } | { ok: false; eventId: string | null; reason: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Anything cleanString would change (not global: `test` keeps no state between strings). */
const NEEDS_CLEANING = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Postgres text and json refuse NUL; they also refuse the JSON escape of a lone surrogate (→ U+FFFD). */
function cleanString(value: string): string {
  const withoutNul = value.includes("\u0000") ? value.replaceAll("\u0000", "") : value;
  return withoutNul.replace(LONE_SURROGATE, "\uFFFD");
}

function cleanJson(value: unknown): unknown {
  if (typeof value === "string") return cleanString(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[cleanString(key)] = cleanJson(inner);
    return out;
  }
  return value;
}

function idOf(raw: unknown): string | null {
  const id = typeof raw === "object" && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id.slice(0, 100) : null;
}

// The schema's own patterns, so the hand-written check can not drift from it; a
// schema without them (changed shape) simply sends every event through zod.
const UUID_PATTERN = (usageEventSchema.shape.id._zod.def as { pattern?: RegExp }).pattern;
const DATETIME_PATTERN = (usageEventSchema.shape.created_at._zod.def as { pattern?: RegExp }).pattern;

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isText = (value: unknown, max: number, min = 0): value is string =>
  typeof value === "string" && value.length <= max && value.length >= min;

/**
 * The event, copied to exactly the schema's fields, when it has the common valid
 * shape — a strict subset of what usageEventSchema accepts (a test keeps them
 * in step); undefined sends it through zod, which accepts or explains.
 */
function readCommonShape(raw: unknown): UsageEvent | undefined {
  if (typeof raw !== "object" || raw === null || UUID_PATTERN === undefined || DATETIME_PATTERN === undefined) return undefined;
  const r = raw as Record<string, unknown>;
  const { metadata } = r;
  if (
    r.v === 1 &&
    typeof r.id === "string" && UUID_PATTERN.test(r.id) &&
    typeof r.created_at === "string" && DATETIME_PATTERN.test(r.created_at) &&
    (r.provider === null || isText(r.provider, 100, 1)) &&
    isText(r.model, 500) &&
    (r.deployment === null || isText(r.deployment, 500)) &&
    isCount(r.prompt_tokens) && isCount(r.completion_tokens) && isCount(r.total_tokens) &&
    isCount(r.cached_tokens) && isCount(r.reasoning_tokens) &&
    typeof r.usage_reported === "boolean" && typeof r.success === "boolean" &&
    (r.error === null || isText(r.error, 2_000)) &&
    (r.latency_ms === null || isCount(r.latency_ms)) &&
    (r.user_id === null || isText(r.user_id, 500)) &&
    (r.streamed === undefined || typeof r.streamed === "boolean") &&
    (r.time_to_first_token_ms === undefined || r.time_to_first_token_ms === null || isCount(r.time_to_first_token_ms)) &&
    (r.operation === undefined || isText(r.operation, 50, 1)) &&
    typeof metadata === "object" && metadata !== null && Object.getPrototypeOf(metadata) === Object.prototype
  ) {
    return {
      v: 1, id: r.id, created_at: r.created_at, provider: r.provider, model: r.model, deployment: r.deployment,
      prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, total_tokens: r.total_tokens,
      cached_tokens: r.cached_tokens, reasoning_tokens: r.reasoning_tokens, usage_reported: r.usage_reported,
      success: r.success, error: r.error, latency_ms: r.latency_ms, user_id: r.user_id,
      metadata: metadata as Record<string, unknown>,
      // Events from producers older than these fields get the columns' defaults.
      streamed: r.streamed ?? false, time_to_first_token_ms: r.time_to_first_token_ms ?? null, operation: r.operation ?? "chat",
    };
  }
  return undefined;
}

/** Deepest metadata the scan follows; deeper (or circular) values take the careful path. */
const MAX_SCAN_DEPTH = 32;
/** Upper bound of a JSON number's length ("-1.2345678901234567e-308"). */
const MAX_NUMBER_BYTES = 24;

/**
 * Upper bound of the JSON byte size of `value` (each UTF-16 unit is at most
 * 6 bytes, as \uXXXX), or -1 when a string needs cleaning or the value is not
 * plain JSON: those take the copying path, which also measures exactly.
 */
function scanJson(value: unknown, depth: number): number {
  if (typeof value === "string") return NEEDS_CLEANING.test(value) ? -1 : 2 + 6 * value.length;
  if (typeof value === "number") return Number.isFinite(value) ? MAX_NUMBER_BYTES : -1;
  if (typeof value === "boolean" || value === null) return 5;
  if (typeof value !== "object" || depth >= MAX_SCAN_DEPTH) return -1;
  let bytes = 2;
  if (Array.isArray(value)) {
    for (const inner of value) {
      const size = scanJson(inner, depth + 1);
      if (size < 0) return -1;
      bytes += size + 1;
    }
    return bytes;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return -1;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return -1;
    const size = scanJson((value as Record<string, unknown>)[key], depth + 1);
    if (size < 0 || NEEDS_CLEANING.test(key)) return -1;
    bytes += 2 + 6 * key.length + 2 + size;
  }
  return bytes;
}

/** True when no top-level string needs cleaning and metadata is plain JSON surely within MAX_METADATA_BYTES. */
function isCleanAndSmall(e: UsageEvent): boolean {
  for (const text of [e.model, e.provider, e.deployment, e.error, e.user_id, e.operation]) {
    if (text !== null && text !== undefined && NEEDS_CLEANING.test(text)) return false;
  }
  const bound = scanJson(e.metadata, 0);
  return bound >= 0 && bound <= MAX_METADATA_BYTES;
}

/** Validates against the event contract, sanitises strings, and enforces the column limits. */
export function prepareEvent(raw: unknown): PreparedEvent {
  let e = readCommonShape(raw);
  if (e === undefined) {
    const parsed = usageEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join(".") : "event";
      return { ok: false, eventId: idOf(raw), reason: `schema: ${where} ${issue?.message ?? "is invalid"}`.slice(0, 200) };
    }
    const { streamed = false, time_to_first_token_ms = null, operation = "chat" } = parsed.data;
    e = { ...parsed.data, streamed, time_to_first_token_ms, operation };
  }
  for (const field of COUNT_FIELDS) {
    const value = e[field];
    if (value !== null && value !== undefined && value > INT4_MAX) return { ok: false, eventId: e.id, reason: `${field} exceeds ${INT4_MAX}` };
  }
  // The common case: nothing to clean and no need to serialise the metadata to know its size.
  if (isCleanAndSmall(e)) return { ok: true, event: e };
  let metadata: Record<string, unknown>;
  let serialized: string;
  try {
    metadata = cleanJson(e.metadata) as Record<string, unknown>;
    serialized = JSON.stringify(metadata);
  } catch (error) {
    return { ok: false, eventId: e.id, reason: `metadata is not serialisable as JSON (${(error as Error).name})` };
  }
  if (Buffer.byteLength(serialized) > MAX_METADATA_BYTES) {
    return { ok: false, eventId: e.id, reason: `metadata exceeds ${MAX_METADATA_BYTES} bytes as JSON` };
  }
  const text = (value: string | null) => (value === null ? null : cleanString(value));
  return {
    ok: true,
    event: {
      ...e,
      model: cleanString(e.model),
      provider: text(e.provider),
      deployment: text(e.deployment),
      error: text(e.error),
      user_id: text(e.user_id),
      metadata,
      streamed: e.streamed ?? false,
      time_to_first_token_ms: e.time_to_first_token_ms ?? null,
      operation: cleanString(e.operation ?? "chat"),
    },
  };
}
