// The worker's hot insert: a whole batch of usage events as one prepared
// `INSERT … SELECT FROM unnest(…) ON CONFLICT (id) DO NOTHING` through postgres.js.
// One statement shape for every batch size, so Postgres plans it once per
// connection; drizzle's query builder costs ~4× the CPU per row for the same rows.
import type { Sql } from "postgres";
import type { UsageEvent } from "../usage/usage-event.js";

/** A usage event with the price the worker gave it; events without one are written unpriced (null). */
export type UsageRow = UsageEvent & {
  /** Exact USD as a decimal string (`"0.0000012500"`), cast to numeric by Postgres; null when unpriced. */
  cost_usd?: string | null;
  /** The price table version used for cost_usd. */
  price_version?: string | null;
};

/** Array type OIDs: each parameter is typed up front, so the statement's signature never varies with the values. */
const ARRAY_OID = { uuid: 2951, text: 1009, int4: 1007, bool: 1000 } as const;

/**
 * Event field → column, with the element type each array travels as.
 * The columns are those of `llmTrackerUsage` in schema.ts (the schema stays in
 * Drizzle); a test checks every mapped column reaches the table.
 */
const COLUMNS = [
  ["id", "uuid", (e: UsageRow) => e.id],
  ["user_id", "text", (e: UsageRow) => e.user_id],
  ["model", "text", (e: UsageRow) => e.model],
  ["prompt_tokens", "int4", (e: UsageRow) => e.prompt_tokens],
  ["completion_tokens", "int4", (e: UsageRow) => e.completion_tokens],
  ["total_tokens", "int4", (e: UsageRow) => e.total_tokens],
  ["cached_tokens", "int4", (e: UsageRow) => e.cached_tokens],
  ["reasoning_tokens", "int4", (e: UsageRow) => e.reasoning_tokens],
  ["success", "bool", (e: UsageRow) => e.success],
  ["error", "text", (e: UsageRow) => e.error],
  // Sent as text and cast per row: postgres.js serialises a text[] cheaply, and a
  // jsonb[] parameter would need each element JSON-encoded and array-escaped anyway.
  ["metadata", "text", (e: UsageRow) => JSON.stringify(e.metadata)],
  // Text cast by Postgres, which keeps the event's precision and offset exactly.
  ["created_at", "text", (e: UsageRow) => e.created_at],
  ["provider", "text", (e: UsageRow) => e.provider],
  ["deployment", "text", (e: UsageRow) => e.deployment],
  ["latency_ms", "int4", (e: UsageRow) => e.latency_ms],
  ["usage_reported", "bool", (e: UsageRow) => e.usage_reported],
  // Decimal text cast by Postgres: no float between the price book and the numeric column.
  ["cost_usd", "text", (e: UsageRow) => e.cost_usd ?? null],
  ["price_version", "text", (e: UsageRow) => e.price_version ?? null],
] as const;

const names = COLUMNS.map(([name]) => name);
const CASTS: Record<string, string> = { metadata: "metadata::jsonb", created_at: "created_at::timestamptz", cost_usd: "cost_usd::numeric" };
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
function columnParameters(sql: Sql, events: readonly UsageRow[]): unknown[] {
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
export async function insertUsageRows(sql: Sql, events: readonly UsageRow[]): Promise<{ inserted: number }> {
  if (events.length === 0) return { inserted: 0 };
  const result = await sql.unsafe(INSERT_SQL, columnParameters(sql, events) as never[], { prepare: true });
  return { inserted: result.count };
}
