// prepareEvent's hand-written fast path agrees with the zod schema: every variant
// of an event is accepted exactly when usageEventSchema (and the int4 limits)
// accept it, with the same fields; sanitising and the metadata size limit hold on both paths.
import { describe, expect, it } from "vitest";
import { usageEventSchema } from "../../src/usage/usage-event.js";
import { MAX_METADATA_BYTES, prepareEvent } from "../../workers/prepare-event.js";
import { makeEvent } from "../support/usage-events.js";

const INT4_MAX = 2_147_483_647;
const base = makeEvent();

/** One field of a valid event replaced by each value, and the event without it. */
const variants: Record<string, unknown[]> = {
  v: [1, 2, "1", null],
  id: [base.id, base.id.toUpperCase(), "00000000-0000-0000-0000-000000000000", "not-a-uuid", `${base.id}x`, 7, null],
  created_at: ["2025-03-04T05:06:07Z", "2025-03-04T05:06:07.123456-09:30", "2024-02-29T00:00:00+14:00", "2023-02-29T00:00:00Z", "2025-03-04T05:06:07", "2025-03-04 05:06:07Z", "2025-03-04T24:00:00Z", ""],
  provider: ["openai", null, "", "p".repeat(100), "p".repeat(101), 3],
  model: ["", "m".repeat(500), "m".repeat(501), null, 1],
  deployment: [null, "d".repeat(500), "d".repeat(501), ""],
  prompt_tokens: [0, 1.5, -1, INT4_MAX, INT4_MAX + 1, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity, "3", null],
  completion_tokens: [0, -0, 2 ** 31],
  total_tokens: [5, 5.0000001],
  cached_tokens: [0, null],
  reasoning_tokens: [0, true],
  usage_reported: [true, false, 0, null],
  success: [false, "true"],
  error: [null, "", "e".repeat(2_000), "e".repeat(2_001), 5],
  latency_ms: [null, 0, 12.5, -3, INT4_MAX + 1],
  user_id: [null, "", "u".repeat(500), "u".repeat(501)],
  metadata: [{}, { a: { b: [1, null, "x"] } }, [], null, "text", new Date(0), Object.create(null), { constructor: "x" }],
  // Optional (events from older producers lack them): missing means the column default.
  streamed: [true, false, null, "yes"],
  time_to_first_token_ms: [null, 0, 250, 1.5, -1, INT4_MAX + 1],
  operation: ["chat", "embeddings", "", "o".repeat(50), "o".repeat(51), null],
};

/** What the worker writes for an accepted event: the schema's fields, the optional ones defaulted. */
function written(raw: unknown) {
  const { streamed = false, time_to_first_token_ms = null, operation = "chat", ...rest } = usageEventSchema.parse(raw);
  return { ...rest, streamed, time_to_first_token_ms, operation };
}

function expectedAccept(raw: unknown): boolean {
  const parsed = usageEventSchema.safeParse(raw);
  if (!parsed.success) return false;
  const e = parsed.data;
  return [e.prompt_tokens, e.completion_tokens, e.total_tokens, e.cached_tokens, e.reasoning_tokens, e.latency_ms ?? 0, e.time_to_first_token_ms ?? 0].every(
    (n) => n <= INT4_MAX,
  );
}

describe("prepareEvent", () => {
  const cases = Object.entries(variants).flatMap(([field, values]) => [
    ...values.map((value) => [field, value, { ...base, [field]: value }] as const),
    [field, "(missing)", Object.fromEntries(Object.entries(base).filter(([key]) => key !== field))] as const,
  ]);

  it.each(cases)("accepts %s = %j exactly when the schema and the int4 limits do, with the schema's fields", (_field, _value, raw) => {
    const prepared = prepareEvent(raw);
    expect(prepared.ok).toBe(expectedAccept(raw));
    if (prepared.ok) expect(prepared.event).toEqual(written(raw));
    else expect(prepared.eventId).toBe(typeof raw.id === "string" ? raw.id : null);
  });

  it("gives an event from an older producer (no streamed, time_to_first_token_ms, operation) the columns' defaults", () => {
    const { streamed: _s, time_to_first_token_ms: _t, operation: _o, ...old } = base;
    const prepared = prepareEvent(old);
    expect(prepared).toEqual({ ok: true, event: { ...old, streamed: false, time_to_first_token_ms: null, operation: "chat" } });
  });

  it("drops keys the schema does not know and hands over a fresh object", () => {
    const raw = { ...base, extra: "x", cost_usd: "1" };
    const prepared = prepareEvent(raw);
    expect(prepared.ok && Object.keys(prepared.event).sort()).toEqual(Object.keys(base).sort());
    expect(prepared.ok && prepared.event).not.toBe(raw);
  });

  it("strips NUL and replaces lone surrogates in strings, keys and nested metadata; keeps valid surrogate pairs", () => {
    const raw = makeEvent({
      model: "m\u0000",
      user_id: "u\uD800",
      error: "ok 😀",
      metadata: { "k\u0000": ["a\uDC00b", { deep: "\u0000x" }], emoji: "😀", n: 1.5, t: true, z: null },
    });
    const prepared = prepareEvent(raw);
    expect(prepared).toEqual({
      ok: true,
      event: { ...raw, model: "m", user_id: "u\uFFFD", error: "ok 😀", metadata: { k: ["a\uFFFDb", { deep: "x" }], emoji: "😀", n: 1.5, t: true, z: null } },
    });
  });

  it("refuses metadata over the byte limit counted in UTF-8, and accepts it right at the limit", () => {
    const overhead = JSON.stringify({ b: "" }).length;
    const atLimit = makeEvent({ metadata: { b: "x".repeat(MAX_METADATA_BYTES - overhead) } });
    const multiByteOver = makeEvent({ metadata: { b: "é".repeat((MAX_METADATA_BYTES - overhead) / 2 + 1) } });
    expect(prepareEvent(atLimit).ok).toBe(true);
    expect(prepareEvent(multiByteOver)).toEqual({ ok: false, eventId: multiByteOver.id, reason: `metadata exceeds ${MAX_METADATA_BYTES} bytes as JSON` });
  });

  it("refuses metadata that is not serialisable as JSON", () => {
    const bigint = makeEvent({ metadata: { n: 10n } });
    expect(prepareEvent(bigint)).toEqual({ ok: false, eventId: bigint.id, reason: "metadata is not serialisable as JSON (TypeError)" });
  });
});
