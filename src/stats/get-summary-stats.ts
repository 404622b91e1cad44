// Totals over a date range: tokens, calls, and how many succeeded or failed.
import type { DateInput } from "./date-range.js";
import { parseDateRange } from "./date-range.js";
import { statsSql } from "./stats-connection.js";
import type { StatsOptions, SummaryStats } from "./stats-options.js";
import { inRange, runStatsQuery, toNumber, toTokenTotals, tokenTotalsColumns } from "./stats-sql.js";

/** Token and call totals of the rows created in [startDate, endDate); zeros over an empty range. */
export async function getSummaryStats(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<SummaryStats> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const sql = statsSql(options.db);
  const [row] = await runStatsQuery(
    range,
    () => sql`
      SELECT ${tokenTotalsColumns(sql)},
        count(*) FILTER (WHERE success)::int8 AS successful_calls,
        count(*) FILTER (WHERE NOT success)::int8 AS failed_calls,
        count(*) FILTER (WHERE cost_usd IS NULL)::int8 AS unpriced_calls
      FROM llm_tracker_usage
      WHERE ${inRange(sql, range)}`,
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
  };
}
