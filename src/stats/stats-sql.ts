// SQL pieces the stats queries share: the token and cost totals, read back as numbers.
import type { PendingQuery, Row, Sql } from "postgres";
import { toNumber } from "../query/query-sql.js";
import type { TokenTotals } from "./stats-options.js";

type Fragment = PendingQuery<Row[]>;

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
