// Token totals per pipeline node (`metadata.node_name`) over a date range.
import type { DateInput } from "../query/date-range.js";
import { parseDateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import type { NodeStats, RankedStatsOptions } from "./stats-options.js";
import { parseStatsFilter } from "./stats-filter.js";
import { parseLimit } from "./stats-limit.js";
import { toTokenTotals } from "./stats-sql.js";
import { rankedStats } from "./ranked-stats.js";

/**
 * One entry per `metadata.node_name` (rows without one grouped under `null`),
 * by `total_tokens` descending (the first `options.limit` of them), ties by node name (byte order, null last).
 */
export async function getStatsByNode(startDate?: DateInput, endDate?: DateInput, options: RankedStatsOptions = {}): Promise<NodeStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const limit = parseLimit("options.limit", options.limit);
  const terms = parseStatsFilter(options.filter);
  const sql = statsSql(options.db);
  const rows = await rankedStats(sql, range, "node", "node_name", limit, terms);
  return rows.map((row) => ({ node_name: (row.node_name as string | null) ?? null, ...toTokenTotals(row) }));
}
