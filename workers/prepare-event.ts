// Checks one queued event before it may join a batch, and sanitises what
// Postgres would otherwise reject, so one bad event never costs a whole batch.
import { usageEventSchema, type UsageEvent } from "../src/usage/usage-event.js";

/**
 * Largest accepted `metadata`, serialised as JSON (64 KiB). Bigger metadata
 * makes the event poison: rows stay small and a runaway payload can not fill the table.
 */
export const MAX_METADATA_BYTES = 64 * 1024;

/** Largest value of an int4 column (token counts, latency_ms). */
const INT4_MAX = 2_147_483_647;

const COUNT_FIELDS = ["prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens", "latency_ms"] as const;

export type PreparedEvent = { ok: true; event: UsageEvent } | { ok: false; eventId: string | null; reason: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Postgres text and jsonb refuse NUL; jsonb also refuses the JSON escape of a lone surrogate (→ U+FFFD). */
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

/** Validates against the event contract, sanitises strings, and enforces the column limits. */
export function prepareEvent(raw: unknown): PreparedEvent {
  const parsed = usageEventSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "event";
    return { ok: false, eventId: idOf(raw), reason: `schema: ${where} ${issue?.message ?? "is invalid"}`.slice(0, 200) };
  }
  const e = parsed.data;
  for (const field of COUNT_FIELDS) {
    const value = e[field];
    if (value !== null && value > INT4_MAX) return { ok: false, eventId: e.id, reason: `${field} exceeds ${INT4_MAX}` };
  }
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
    },
  };
}
