// SQL pieces every stats query shares: the date-range condition, the token and
// cost totals, and turning Postgres' bigint text into JavaScript numbers.
import type { PendingQuery, Row, Sql } from "postgres";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import type { Bound, DateRange } from "./date-range.js";
import type { TokenTotals } from "./stats-options.js";

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

/** Calls and token sums of a group, each coalesced to 0 and cast to int8 (exact, no int4 overflow). */
export function tokenTotalsColumns(sql: Sql): Fragment {
  return sql`
    count(*)::int8 AS total_calls,
    coalesce(sum(prompt_tokens), 0)::int8 AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0)::int8 AS total_completion_tokens,
    coalesce(sum(total_tokens), 0)::int8 AS total_tokens,
    ${costColumn(sql)}`;
}

/**
 * USD summed exactly in numeric, then rounded to 1e-6 and returned as a float8
 * (a JS number); rows without a price add nothing. Exact values stay in the table.
 */
export function costColumn(sql: Sql): Fragment {
  return sql`round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd`;
}

/** Reads the columns of tokenTotalsColumns() back as numbers. */
export function toTokenTotals(row: Row): TokenTotals {
  return {
    total_calls: toNumber(row.total_calls),
    total_prompt_tokens: toNumber(row.total_prompt_tokens),
    total_completion_tokens: toNumber(row.total_completion_tokens),
    total_tokens: toNumber(row.total_tokens),
    total_cost_usd: toNumber(row.total_cost_usd),
  };
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
 * Runs a stats query with JIT off (see withJitOff), turning Postgres' "unknown
 * time zone" into the caller's InvalidInputError.
 */
export async function runStatsQuery<T>(sql: Sql, range: DateRange, query: (sql: Sql) => Promise<T>): Promise<T> {
  try {
    return await withJitOff(sql, query);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === "22023" && message?.includes("time zone")) {
      throw new InvalidInputError("options.timeZone", `the database does not know the time zone ${JSON.stringify(range.timeZone)}`);
    }
    throw error;
  }
}

/**
 * Runs `query` with Postgres's JIT compiler off. The planner prices the
 * rollup-plus-edges queries as if every raw edge were large and would spend
 * tens of ms (10M rows: ~20–60 ms; by-day ~0.5–1 s) compiling queries that run
 * in a few ms. On our own pool (or any
 * client that can begin a transaction) it is `SET LOCAL` in a transaction of
 * its own; a caller's transaction (`options.db` from `sql.begin`) is left as it is.
 */
export async function withJitOff<T>(sql: Sql, query: (sql: Sql) => Promise<T>): Promise<T> {
  if (typeof (sql as Partial<Sql>).begin !== "function") return query(sql);
  return (await sql.begin(async (tx) => {
    await tx`SET LOCAL jit = off`;
    return query(tx as unknown as Sql);
  })) as T;
}
