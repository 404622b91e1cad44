// Token totals per user over a date range.
import type { DateInput } from "../query/date-range.js";
import { parseDateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import type { RankedStatsOptions, UserStats } from "./stats-options.js";
import { parseStatsFilter } from "./stats-filter.js";
import { parseLimit } from "./stats-limit.js";
import { toTokenTotals } from "./stats-sql.js";
import { rankedStats } from "./ranked-stats.js";

/**
 * One entry per `user_id` (calls without a user grouped under `null`), by
 * `total_tokens` descending, ties by user id (byte order, null last).
 */
export async function getStatsByUser(startDate?: DateInput, endDate?: DateInput, options: RankedStatsOptions = {}): Promise<UserStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const limit = parseLimit("options.limit", options.limit);
  const terms = parseStatsFilter(options.filter);
  const sql = statsSql(options.db);
  const rows = await rankedStats(sql, range, "user", "user_id", limit, terms);
  return rows.map((row) => ({ user_id: (row.user_id as string | null) ?? null, ...toTokenTotals(row) }));
}
