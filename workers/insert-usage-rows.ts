// The worker's hot insert: a whole batch of usage events sent as one JSON text
// parameter and expanded by Postgres (`json_to_recordset`) in one prepared
// `INSERT … SELECT … ON CONFLICT (id) DO NOTHING`. One JSON.stringify per batch
// costs Node ~2 µs per row, where typed arrays cost ~4.5 µs (postgres.js escapes
// every element into an array literal) and drizzle's query builder ~4× that.
import type { Sql } from "postgres";
import type { CommittedInsert, InsertedCost } from "../src/budgets/spend-ledger.js";
import type { UsageEvent } from "../src/usage/usage-event.js";

/** A usage event with the price the worker gave it; events without one are written unpriced (null). */
export type UsageRow = UsageEvent & {
  /** Exact USD as a decimal string (`"0.0000012500"`), cast to numeric by Postgres; null when unpriced. */
  cost_usd?: string | null;
  /** The price table version used for cost_usd. */
  price_version?: string | null;
};

/**
 * Column → SQL type of the JSON value Postgres reads for it. Each row's JSON
 * keys are the event's field names, which are the column names. The columns
 * are those of `llmTrackerUsage` in schema.ts (the schema stays in Drizzle); a
 * test checks every listed column reaches the table. Missing keys (e.g. an
 * unpriced row's cost_usd) become NULL; keys not listed (`v`) are ignored.
 */
const COLUMNS = [
  ["id", "uuid"],
  ["user_id", "text"],
  ["model", "text"],
  ["prompt_tokens", "int4"],
  ["completion_tokens", "int4"],
  ["total_tokens", "int4"],
  ["cached_tokens", "int4"],
  ["reasoning_tokens", "int4"],
  ["success", "bool"],
  ["error", "text"],
  // The nested JSON object, parsed into jsonb once, by Postgres.
  ["metadata", "jsonb"],
  // A JSON string read by timestamptz's input function: the event's precision and offset are kept exactly.
  ["created_at", "timestamptz"],
  ["provider", "text"],
  ["deployment", "text"],
  ["latency_ms", "int4"],
  ["usage_reported", "bool"],
  // A JSON string read by numeric's input function: no float between the price book and the column.
  ["cost_usd", "numeric"],
  ["price_version", "text"],
  ["streamed", "bool"],
  ["time_to_first_token_ms", "int4"],
  ["operation", "text"],
] as const;

/**
 * The NOT NULL columns whose event fields are optional (events from older
 * producers lack them): a missing key reads as NULL, which would override the
 * column default, so the column's default is written instead.
 */
const DEFAULTS: Partial<Record<(typeof COLUMNS)[number][0], string>> = { streamed: "false", operation: "'chat'" };

const names = COLUMNS.map(([name]) => name).join(", ");
const selected = COLUMNS.map(([name]) => (DEFAULTS[name] ? `coalesce(${name}, ${DEFAULTS[name]})` : name)).join(", ");
const recordType = COLUMNS.map(([name, type]) => `${name} ${type}`).join(", ");

/** Builds the statement; `returning` lists columns of the inserted rows to hand back (e.g. for a rollup). */
function insertStatement(returning: readonly string[]): string {
  return (
    // $1 is declared text so postgres.js sends the string as is; json (not jsonb) is
    // parsed lazily per row by json_to_recordset, the cheapest shape measured.
    `INSERT INTO llm_tracker_usage (${names}) ` +
    `SELECT ${selected} FROM json_to_recordset($1::text::json) AS t(${recordType}) ` +
    `ON CONFLICT (id) DO NOTHING` +
    (returning.length > 0 ? ` RETURNING ${returning.join(", ")}` : "")
  );
}

const INSERT_SQL = insertStatement([]);
// For budgets: what each new row cost, where, and the transaction that committed it (see spend-ledger.ts).
const INSERT_RETURNING_COSTS_SQL = insertStatement([
  "user_id",
  "metadata->>'node_name' AS node_name",
  "floor(extract(epoch FROM created_at) * 1000)::text AS created_ms",
  "cost_usd::text AS cost_usd",
  "pg_current_xact_id()::text AS xid",
]);

/**
 * Inserts the events in one statement (one implicit transaction); rows whose id
 * already exists are skipped. Resolves to how many rows were new.
 * The events must already be valid and sanitised (the worker's prepare step):
 * Postgres's JSON parser refuses NUL and lone surrogates in any string.
 */
export async function insertUsageRows(sql: Sql, events: readonly UsageRow[], options: { returnCosts?: boolean } = {}): Promise<{ inserted: number; committed?: CommittedInsert }> {
  if (events.length === 0) return { inserted: 0 };
  if (!options.returnCosts) {
    const result = await sql.unsafe(INSERT_SQL, [JSON.stringify(events)], { prepare: true });
    return { inserted: result.count };
  }
  // Only the rows this statement inserted come back: a redelivered event (ON CONFLICT) is not counted twice.
  const rows = await sql.unsafe<{ user_id: string | null; node_name: string | null; created_ms: string; cost_usd: string | null; xid: string }[]>(
    INSERT_RETURNING_COSTS_SQL,
    [JSON.stringify(events)],
    { prepare: true },
  );
  const costs: InsertedCost[] = rows.map((row) => ({ user_id: row.user_id, node_name: row.node_name, created_ms: Number(row.created_ms), cost_usd: row.cost_usd }));
  return { inserted: rows.length, ...(rows.length > 0 ? { committed: { xid: rows[0]!.xid, rows: costs } } : {}) };
}
