// Token totals per pipeline node (`metadata.node_name`) over a date range.
import type { DateInput } from "./date-range.js";
import { parseDateRange } from "./date-range.js";
import { statsSql } from "./stats-connection.js";
import type { NodeStats, StatsOptions } from "./stats-options.js";
import { inRange, runStatsQuery, toTokenTotals, tokenTotalsColumns } from "./stats-sql.js";

/**
 * One entry per `metadata.node_name` (rows without one grouped under `null`),
 * by `total_tokens` descending, ties by node name (byte order, null last).
 */
export async function getStatsByNode(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<NodeStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const sql = statsSql(options.db);
  const rows = await runStatsQuery(
    range,
    () => sql`
      SELECT node_name, ${tokenTotalsColumns(sql)}
      FROM (
        SELECT metadata->>'node_name' AS node_name, prompt_tokens, completion_tokens, total_tokens, cost_usd
        FROM llm_tracker_usage
        WHERE ${inRange(sql, range)}
      ) AS usage_with_node
      GROUP BY node_name
      ORDER BY total_tokens DESC, node_name COLLATE "C" ASC NULLS LAST`,
  );
  return rows.map((row) => ({ node_name: (row.node_name as string | null) ?? null, ...toTokenTotals(row) }));
}
