// Token totals per model over a date range.
import type { DateInput } from "../query/date-range.js";
import { parseDateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import type { ModelStats, StatsOptions } from "./stats-options.js";
import { parseStatsFilter } from "./stats-filter.js";
import { runStatsQuery } from "../query/query-sql.js";
import { toTokenTotals } from "./stats-sql.js";
import { fromUsageParts, summedTotalsColumns } from "./usage-sources.js";

/** One entry per model, by `total_tokens` descending, ties by model name (byte order). */
export async function getStatsByModel(startDate?: DateInput, endDate?: DateInput, options: StatsOptions = {}): Promise<ModelStats[]> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const terms = parseStatsFilter(options.filter);
  const sql = statsSql(options.db);
  const rows = await runStatsQuery(sql, range, (q) =>
    fromUsageParts(
      q,
      range,
      "model",
      q`model, ${summedTotalsColumns(q)}`,
      // Buckets emptied by deletes stay in the rollup with zero calls; a group of only those had no rows.
      q`GROUP BY model HAVING sum(calls) > 0 ORDER BY total_tokens DESC, model COLLATE "C" ASC`,
      terms,
    ),
  );
  return rows.map((row) => ({ model: row.model as string, ...toTokenTotals(row) }));
}
