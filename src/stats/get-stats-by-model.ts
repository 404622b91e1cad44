// Token totals per model over a date range.
import type { DateInput } from "./date-range.js";
import { parseDateRange } from "./date-range.js";
import { statsSql } from "./stats-connection.js";
import type { ModelStats, StatsOptions } from "./stats-options.js";
import { inRange, runStatsQuery, toTokenTotals, tokenTotalsColumns } from "./stats-sql.js";

/** One entry per model, by `total_tokens` descending, ties by model name (byte order). */
export async function getStatsByModel(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<ModelStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const sql = statsSql(options.db);
  const rows = await runStatsQuery(
    range,
    () => sql`
      SELECT model, ${tokenTotalsColumns(sql)}
      FROM llm_tracker_usage
      WHERE ${inRange(sql, range)}
      GROUP BY model
      ORDER BY total_tokens DESC, model COLLATE "C" ASC`,
  );
  return rows.map((row) => ({ model: row.model as string, ...toTokenTotals(row) }));
}
