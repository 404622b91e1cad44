// The worker's hot insert: a whole batch of usage events as one prepared
// `INSERT … SELECT FROM unnest(…) ON CONFLICT (id) DO NOTHING` through postgres.js.
// One statement shape for every batch size, so Postgres plans it once per
// connection; drizzle's query builder costs ~4× the CPU per row for the same rows.
import type { Sql } from "postgres";
import type { UsageEvent } from "../usage/usage-event.js";

/** Array type OIDs: each parameter is typed up front, so the statement's signature never varies with the values. */
const ARRAY_OID = { uuid: 2951, text: 1009, int4: 1007, bool: 1000 } as const;

/**
 * Event field → column, with the element type each array travels as.
 * The columns are those of `llmTrackerUsage` in schema.ts (the schema stays in
 * Drizzle); a test checks every mapped column reaches the table.
 */
const COLUMNS = [
  ["id", "uuid", (e: UsageEvent) => e.id],
  ["user_id", "text", (e: UsageEvent) => e.user_id],
  ["model", "text", (e: UsageEvent) => e.model],
  ["prompt_tokens", "int4", (e: UsageEvent) => e.prompt_tokens],
  ["completion_tokens", "int4", (e: UsageEvent) => e.completion_tokens],
  ["total_tokens", "int4", (e: UsageEvent) => e.total_tokens],
  ["cached_tokens", "int4", (e: UsageEvent) => e.cached_tokens],
  ["reasoning_tokens", "int4", (e: UsageEvent) => e.reasoning_tokens],
  ["success", "bool", (e: UsageEvent) => e.success],
  ["error", "text", (e: UsageEvent) => e.error],
  // Sent as text and cast per row: postgres.js serialises a text[] cheaply, and a
  // jsonb[] parameter would need each element JSON-encoded and array-escaped anyway.
  ["metadata", "text", (e: UsageEvent) => JSON.stringify(e.metadata)],
  // Text cast by Postgres, which keeps the event's precision and offset exactly.
  ["created_at", "text", (e: UsageEvent) => e.created_at],
  ["provider", "text", (e: UsageEvent) => e.provider],
  ["deployment", "text", (e: UsageEvent) => e.deployment],
  ["latency_ms", "int4", (e: UsageEvent) => e.latency_ms],
  ["usage_reported", "bool", (e: UsageEvent) => e.usage_reported],
] as const;

const names = COLUMNS.map(([name]) => name);
const CASTS: Record<string, string> = { metadata: "metadata::jsonb", created_at: "created_at::timestamptz" };
const selected = COLUMNS.map(([name]) => CASTS[name] ?? name);
const unnestArgs = COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`);

/** Builds the statement; `returning` lists columns of the inserted rows to hand back (e.g. for a rollup). */
function insertStatement(returning: readonly string[]): string {
  return (
    `INSERT INTO llm_tracker_usage (${names.join(", ")}) ` +
    `SELECT ${selected.join(", ")} FROM unnest(${unnestArgs.join(", ")}) AS t(${names.join(", ")}) ` +
    `ON CONFLICT (id) DO NOTHING` +
    (returning.length > 0 ? ` RETURNING ${returning.join(", ")}` : "")
  );
}

const INSERT_SQL = insertStatement([]);

/** One typed array parameter per column, in COLUMNS order. */
function columnParameters(sql: Sql, events: readonly UsageEvent[]): unknown[] {
  const arrays: unknown[][] = COLUMNS.map(() => new Array(events.length));
  for (let row = 0; row < events.length; row += 1) {
    const event = events[row]!;
    for (let col = 0; col < COLUMNS.length; col += 1) arrays[col]![row] = COLUMNS[col]![2](event);
  }
  // Typed explicitly: postgres.js would otherwise declare a boolean array as a scalar bool.
  return arrays.map((values, col) => sql.typed(values as never, ARRAY_OID[COLUMNS[col]![1]]));
}

/**
 * Inserts the events in one statement (one implicit transaction); rows whose id
 * already exists are skipped. Resolves to how many rows were new.
 * The events must already be valid and sanitised (the worker's prepare step).
 */
export async function insertUsageRows(sql: Sql, events: readonly UsageEvent[]): Promise<{ inserted: number }> {
  if (events.length === 0) return { inserted: 0 };
  const result = await sql.unsafe(INSERT_SQL, columnParameters(sql, events) as never[], { prepare: true });
  return { inserted: result.count };
}
