// Totals over a date range: tokens, calls, and how many succeeded or failed.
import type { DateInput } from "../query/date-range.js";
import { parseDateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import type { StatsOptions, SummaryStats } from "./stats-options.js";
import { parseStatsFilter } from "./stats-filter.js";
import { runStatsQuery, toNumber } from "../query/query-sql.js";
import { toTokenTotals } from "./stats-sql.js";
import { fromUsageParts, summedTotalsColumns } from "./usage-sources.js";

/** Token and call totals of the rows created in [startDate, endDate); zeros over an empty range. */
export async function getSummaryStats(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<SummaryStats> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const terms = parseStatsFilter(options.filter);
  const sql = statsSql(options.db);
  const [row] = await runStatsQuery(sql, range, (q) =>
    fromUsageParts(
      q,
      range,
      null,
      q`${summedTotalsColumns(q)},
        coalesce(sum(successful_calls), 0)::int8 AS successful_calls,
        coalesce(sum(calls) - sum(successful_calls), 0)::int8 AS failed_calls,
        coalesce(sum(unpriced_calls), 0)::int8 AS unpriced_calls`,
      q``,
      terms,
    ),
  );
  // An aggregate without GROUP BY always returns one row.
  const totals = toTokenTotals(row!);
  return {
    total_prompt_tokens: totals.total_prompt_tokens,
    total_completion_tokens: totals.total_completion_tokens,
    total_tokens: totals.total_tokens,
    total_calls: totals.total_calls,
    successful_calls: toNumber(row!.successful_calls),
    failed_calls: toNumber(row!.failed_calls),
    total_cost_usd: totals.total_cost_usd,
    unpriced_calls: toNumber(row!.unpriced_calls),
    avg_latency_ms: totals.avg_latency_ms,
    avg_time_to_first_token_ms: totals.avg_time_to_first_token_ms,
  };
}
