// SQL pieces the stats queries share: the token and cost totals, read back as numbers.
import type { PendingQuery, Row, Sql } from "postgres";
import { toNumber } from "../query/query-sql.js";
import type { TokenTotals } from "./stats-options.js";

type Fragment = PendingQuery<Row[]>;

/**
 * USD summed exactly in numeric, then rounded to 1e-6 and returned as a float8
 * (a JS number); rows without a price add nothing. Exact values stay in the table.
 */
export function costColumn(sql: Sql): Fragment {
  return sql`round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd`;
}

/**
 * An average from a sum and a count of the calls that have the value, in
 * numeric (exact), rounded to 1e-3 ms; 0 when no call has it.
 */
export function averageColumn(sql: Sql, sum: string, count: string, name: string): Fragment {
  return sql`coalesce(round(sum(${sql(sum)})::numeric / nullif(sum(${sql(count)}), 0), 3), 0)::float8 AS ${sql(name)}`;
}

/** Reads the columns of summedTotalsColumns() (usage-sources.ts) back as numbers. */
export function toTokenTotals(row: Row): TokenTotals {
  return {
    total_calls: toNumber(row.total_calls),
    total_prompt_tokens: toNumber(row.total_prompt_tokens),
    total_completion_tokens: toNumber(row.total_completion_tokens),
    total_tokens: toNumber(row.total_tokens),
    total_cost_usd: toNumber(row.total_cost_usd),
    avg_latency_ms: toNumber(row.avg_latency_ms),
    avg_time_to_first_token_ms: toNumber(row.avg_time_to_first_token_ms),
  };
}
