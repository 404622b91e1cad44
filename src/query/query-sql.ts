// Statement helpers every read of the usage table shares (the stats and
// re-pricing): the date-range condition, JIT off, and bigint text as numbers.
import type { PendingQuery, Row, Sql } from "postgres";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import type { Bound, DateRange } from "./date-range.js";

type Fragment = PendingQuery<Row[]>;

/** `created_at` within [from, to); wall-clock bounds become instants in the range's time zone. */
export function inRange(sql: Sql, range: DateRange): Fragment {
  const from = range.from ? sql`created_at >= ${boundInstant(sql, range.from, range.timeZone)}` : sql`true`;
  const to = range.to ? sql`created_at < ${boundInstant(sql, range.to, range.timeZone)}` : sql`true`;
  return sql`${from} AND ${to}`;
}

/**
 * A bound as a timestamptz expression; Postgres reads wall-clock bounds in `timeZone`.
 * Sent as text: postgres.js turns a parameter typed timestamp(tz) into a JS Date,
 * which would cut the bound's microseconds.
 */
export function boundInstant(sql: Sql, bound: Bound, timeZone: string): Fragment {
  return bound.kind === "instant" ? sql`${bound.iso}::text::timestamptz` : sql`(${bound.local}::text::timestamp AT TIME ZONE ${timeZone})`;
}

/**
 * An int8 as postgres.js returns it (a string by default, a bigint or number
 * when the client was configured so) as a number; exact up to 2^53.
 */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" || typeof value === "bigint") return Number(value);
  return 0;
}

/**
 * Runs a query over a date range with the stats' settings (see
 * withStatsSettings), turning Postgres' "unknown time zone" into the caller's
 * InvalidInputError.
 */
export async function runStatsQuery<T>(sql: Sql, range: DateRange, query: (sql: Sql) => Promise<T>): Promise<T> {
  try {
    return await withStatsSettings(sql, query);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === "22023" && message?.includes("time zone")) {
      throw new InvalidInputError("options.timeZone", `the database does not know the time zone ${JSON.stringify(range.timeZone)}`);
    }
    throw error;
  }
}

/**
 * Runs `query` with two planner settings of its own:
 * - JIT off. The planner prices the rollup-plus-edges queries as if every raw
 *   edge were large and would spend tens of ms (10M rows: ~20–60 ms; by-day
 *   ~0.5–1 s) compiling queries that run in a few ms.
 * - Custom plans only (`plan_cache_mode`). postgres.js prepares each statement
 *   per connection; from its sixth run Postgres would also plan it without its
 *   parameters (generic plan: ~50–120 ms for these statements, at 10M rows) and
 *   might keep that plan, which cannot prune the day partitions or the rollup
 *   spans by the range: a stats call would cost that spike, then maybe more.
 * On our own pool (or any client that can begin a transaction) they are set
 * locally in a transaction of its own, pipelined with the query; a caller's
 * transaction (`options.db` from `sql.begin`) is left as it is.
 */
export async function withStatsSettings<T>(sql: Sql, query: (sql: Sql) => Promise<T>): Promise<T> {
  if (typeof (sql as Partial<Sql>).begin !== "function") return query(sql);
  return (await sql.begin(async (tx) => {
    // Not awaited on its own: the settings go out with the query's first statement, in one round trip.
    // Postgres runs them in order, so they are in force when that statement is planned.
    const settings = tx`SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)`;
    const [, result] = await Promise.all([settings.execute(), query(tx as unknown as Sql)]);
    return result;
  })) as T;
}
