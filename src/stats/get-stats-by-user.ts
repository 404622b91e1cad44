// Token totals per user over a date range.
import type { DateInput } from "./date-range.js";
import { parseDateRange } from "./date-range.js";
import { statsSql } from "./stats-connection.js";
import type { StatsOptions, UserStats } from "./stats-options.js";
import { inRange, runStatsQuery, toTokenTotals, tokenTotalsColumns } from "./stats-sql.js";

/**
 * One entry per `user_id` (calls without a user grouped under `null`), by
 * `total_tokens` descending, ties by user id (byte order, null last).
 */
export async function getStatsByUser(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<UserStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const sql = statsSql(options.db);
  const rows = await runStatsQuery(
    range,
    () => sql`
      SELECT user_id, ${tokenTotalsColumns(sql)}
      FROM llm_tracker_usage
      WHERE ${inRange(sql, range)}
      GROUP BY user_id
      ORDER BY total_tokens DESC, user_id COLLATE "C" ASC NULLS LAST`,
  );
  return rows.map((row) => ({ user_id: (row.user_id as string | null) ?? null, ...toTokenTotals(row) }));
}
