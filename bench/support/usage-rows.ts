// The rows the ingest benchmark writes: exactly the events LLMTracker.record()
// builds from bench-event.ts, and the ceiling's raw multi-row insert of them.
import type { Sql } from "postgres";
import { buildUsageEvent } from "../../src/usage/build-event.js";
import { parseRecordInput } from "../../src/usage/record-input.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";
import { benchRecord } from "./bench-event.js";

export function benchEvents(count: number, offset = 0): UsageEvent[] {
  return Array.from({ length: count }, (_, i) => buildUsageEvent(parseRecordInput(benchRecord(offset + i), () => undefined)));
}

// The ceiling: raw postgres.js multi-row inserts of typed arrays (INSERT … SELECT FROM
// unnest(…) ON CONFLICT DO NOTHING), the worker's statement shape before it switched to one
// JSON text (json_to_recordset); kept so the ceiling does not depend on the code it bounds.
// Each array is sent as its literal text ('{"a","b",NULL}'), built here the way postgres.js's
// own array serializer does it: the bench's clients run with fetch_types off, as every client
// of the project must (see src/db/connection.ts), and without the fetched array types
// postgres.js would send an array as "a,b".
const COLUMNS: [string, string, (e: UsageEvent) => unknown][] = [
  ["id", "uuid", (e) => e.id],
  ["user_id", "text", (e) => e.user_id],
  ["model", "text", (e) => e.model],
  ["prompt_tokens", "int4", (e) => e.prompt_tokens],
  ["completion_tokens", "int4", (e) => e.completion_tokens],
  ["total_tokens", "int4", (e) => e.total_tokens],
  ["cached_tokens", "int4", (e) => e.cached_tokens],
  ["reasoning_tokens", "int4", (e) => e.reasoning_tokens],
  ["success", "bool", (e) => e.success],
  ["error", "text", (e) => e.error],
  ["metadata", "text", (e) => JSON.stringify(e.metadata)],
  ["created_at", "text", (e) => e.created_at],
  ["provider", "text", (e) => e.provider],
  ["deployment", "text", (e) => e.deployment],
  ["latency_ms", "int4", (e) => e.latency_ms],
  ["usage_reported", "bool", (e) => e.usage_reported],
];
const CASTS: Record<string, string> = { metadata: "metadata::jsonb", created_at: "created_at::timestamptz" };

/** The raw insert into `table` (a plain copy of llm_tracker_usage: same columns and indexes, no triggers). */
export function rawInserter(sql: Sql, table: string): (events: readonly UsageEvent[]) => Promise<number> {
  const names = COLUMNS.map(([name]) => name);
  const text =
    `INSERT INTO ${table} (${names.join(", ")}) SELECT ${names.map((n) => CASTS[n] ?? n).join(", ")} ` +
    `FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")}) AS t(${names.join(", ")}) ON CONFLICT DO NOTHING`;
  return async (events) => {
    const params = COLUMNS.map(([, , get]) => arrayLiteral(events.map(get)));
    const result = await sql.unsafe(text, params, { prepare: true });
    return result.count;
  };
}

/** A Postgres array literal of scalars: each element quoted and escaped, null as NULL. */
function arrayLiteral(values: unknown[]): string {
  let text = "{";
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (i > 0) text += ",";
    text += value === null || value === undefined ? "NULL" : `"${String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }
  return `${text}}`;
}
