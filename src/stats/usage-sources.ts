// The rows a stats query sums: whole rollup buckets plus raw rows at the edges
// (planned by range-plan.ts), in one shape, so each stats function groups and
// orders them exactly as a plain aggregation over the raw rows would.
import type { PendingQuery, Row, Sql } from "postgres";
import type { DateRange } from "../query/date-range.js";
import { planned, rangePlanCte, rawEdges, rollupSpans } from "./range-plan.js";
import { averageColumn, costColumn } from "./stats-sql.js";

type Fragment = PendingQuery<Row[]>;

export type Dimension = "model" | "user" | "node";

/** The result column each dimension groups by, read from a rollup row and from a raw row. */
function groupColumn(sql: Sql, dimension: Dimension): { rollup: Fragment; raw: Fragment } {
  // The rollup stores a null user / node as key '' with key_is_null, so '' and null stay apart.
  const nullableKey = sql`CASE WHEN key_is_null THEN NULL ELSE key END`;
  if (dimension === "model") return { rollup: sql`key AS model`, raw: sql`model` };
  if (dimension === "user") return { rollup: sql`${nullableKey} AS user_id`, raw: sql`user_id` };
  return { rollup: sql`${nullableKey} AS node_name`, raw: sql`metadata->>'node_name' AS node_name` };
}

/** The rollup's additive columns, summed by the stats. */
const SUMMED = [
  "calls", "successful_calls", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "unpriced_calls",
  "latency_ms_sum", "latency_calls", "ttft_ms_sum", "ttft_calls",
];

/**
 * `WITH plan AS (…)` for `range`, then a query over `usage_parts`: rows with
 * the dimension's column (`model`, `user_id` or `node_name`) and calls,
 * successful_calls, prompt_tokens, completion_tokens, total_tokens, cost_usd,
 * unpriced_calls, latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls. `select` is the rest of the statement after `FROM usage_parts`.
 */
export function fromUsageParts(sql: Sql, range: DateRange, dimension: Dimension, select: Fragment, rest: Fragment): Fragment {
  const group = groupColumn(sql, dimension);
  const rollupColumns = sql`${group.rollup}, ${sql(SUMMED)}`;
  const rawColumns = sql`${group.raw}, 1 AS calls, success::int AS successful_calls, prompt_tokens, completion_tokens,
    total_tokens, cost_usd, (cost_usd IS NULL)::int AS unpriced_calls,
    coalesce(latency_ms, 0)::int8 AS latency_ms_sum, (latency_ms IS NOT NULL)::int AS latency_calls,
    coalesce(time_to_first_token_ms, 0)::int8 AS ttft_ms_sum, (time_to_first_token_ms IS NOT NULL)::int AS ttft_calls`;
  return sql`
    WITH ${rangePlanCte(sql, range)}
    SELECT ${select}
    FROM (
      ${rollupSpans(sql, dimension, rollupColumns)}
      UNION ALL
      ${rawEdges(sql, rawColumns)}
    ) AS usage_parts
    ${rest}`;
}

/**
 * `WITH plan AS (…), hours AS (…)`, then a query over `usage_days`: rows of
 * (day, calls, total_tokens, cost_usd), `day` the local date in `range.timeZone`.
 *
 * An hour bucket is placed on a local day only when it lies wholly inside it:
 * no offset change within the hour and the same local date at its first and
 * last microsecond. Hours that a local midnight cuts (zones at :30 / :45
 * offsets, odd historical offsets) are read from the raw rows, as are the
 * edges. UTC days come from day buckets only when the zone is UTC itself.
 */
export function fromUsageDays(sql: Sql, range: DateRange, select: Fragment, rest: Fragment): Fragment {
  const zone = range.timeZone;
  const utc = zone === "UTC";
  const hourColumns = sql`bucket, calls, total_tokens, cost_usd`;
  const daySpan = utc
    ? sql`UNION ALL
      SELECT (bucket AT TIME ZONE 'UTC')::date, calls, total_tokens, cost_usd FROM llm_tracker_usage_rollup
      WHERE grain = 'day' AND dimension = 'model' AND bucket >= ${planned(sql, "d_lo")} AND bucket < ${planned(sql, "d_hi")}`
    : sql``;
  return sql`
    WITH ${rangePlanCte(sql, range, { days: utc })},
    hours AS MATERIALIZED (
      SELECT bucket, calls, total_tokens, cost_usd, first_local::date AS day,
        last_local - first_local = interval '59:59.999999' AND first_local::date = last_local::date AS whole
      FROM (
        SELECT bucket, sum(calls) AS calls, sum(total_tokens) AS total_tokens, sum(cost_usd) AS cost_usd
        FROM (${rollupSpans(sql, "model", hourColumns, { hoursOnly: true })}) AS hour_rows
        GROUP BY bucket
      ) AS by_hour
      CROSS JOIN LATERAL (
        SELECT bucket AT TIME ZONE ${zone} AS first_local, (bucket + interval '59:59.999999') AT TIME ZONE ${zone} AS last_local
      ) AS local_ends
    )
    SELECT ${select}
    FROM (
      SELECT day, calls, total_tokens, cost_usd FROM hours WHERE whole
      ${daySpan}
      UNION ALL
      SELECT (u.created_at AT TIME ZONE ${zone})::date, 1, u.total_tokens, u.cost_usd
      FROM hours CROSS JOIN LATERAL (
        -- OFFSET 0 keeps this a per-hour index range scan; as a plain join the
        -- planner, blind to how few hours are cut, may scan the whole table.
        SELECT created_at, total_tokens, cost_usd FROM llm_tracker_usage
        WHERE created_at >= hours.bucket AND created_at < hours.bucket + interval '1 hour' OFFSET 0
      ) AS u
      WHERE NOT hours.whole
      UNION ALL
      SELECT day, 1, total_tokens, cost_usd FROM (${rawEdges(sql, sql`(created_at AT TIME ZONE ${zone})::date AS day, total_tokens, cost_usd`)}) AS edges
    ) AS usage_days
    ${rest}`;
}

/** Calls, token sums, cost and average latencies over usage_parts, as toTokenTotals() reads them. */
export function summedTotalsColumns(sql: Sql): Fragment {
  return sql`
    coalesce(sum(calls), 0)::int8 AS total_calls,
    coalesce(sum(prompt_tokens), 0)::int8 AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0)::int8 AS total_completion_tokens,
    coalesce(sum(total_tokens), 0)::int8 AS total_tokens,
    ${costColumn(sql)},
    ${averageColumn(sql, "latency_ms_sum", "latency_calls", "avg_latency_ms")},
    ${averageColumn(sql, "ttft_ms_sum", "ttft_calls", "avg_time_to_first_token_ms")}`;
}
