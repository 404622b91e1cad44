// Calls, tokens and cost per calendar day, days placed in the caller's time zone.
import type { DateInput } from "../query/date-range.js";
import { parseDateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import type { DayStats, StatsOptions } from "./stats-options.js";
import { parseStatsFilter } from "./stats-filter.js";
import { runStatsQuery, toNumber } from "../query/query-sql.js";
import { costColumn } from "./stats-sql.js";
import { fromUsageBuckets } from "./usage-sources.js";

/**
 * One entry per day that has rows (days without calls are absent), by date
 * ascending; a row's day is its `created_at` read in `options.timeZone`.
 */
export async function getStatsByDay(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<DayStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const terms = parseStatsFilter(options.filter);
  const sql = statsSql(options.db);
  // The day is returned as text, never as a JS Date (which would shift it by the host's zone).
  const rows = await runStatsQuery(sql, range, (q) =>
    fromUsageBuckets(
      q,
      range,
      "day",
      null,
      q`to_char(k_local, 'YYYY-MM-DD') AS date,
        sum(calls)::int8 AS total_calls,
        coalesce(sum(total_tokens), 0)::int8 AS total_tokens,
        ${costColumn(q)}`,
      // Buckets emptied by deletes stay in the rollup with zero calls; a day of only those had no rows.
      q`GROUP BY k_local HAVING sum(calls) > 0 ORDER BY k_local ASC`,
      terms,
    ),
  );
  return rows.map((row) => ({
    date: row.date as string,
    total_calls: toNumber(row.total_calls),
    total_tokens: toNumber(row.total_tokens),
    total_cost_usd: toNumber(row.total_cost_usd),
  }));
}
