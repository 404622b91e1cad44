// getStatsByUser / getStatsByNode with a limit: the top N keys by tokens found
// from the heads of the rollup's buckets (usage-sources.ts, topKeys) when that
// proves the answer, else by summing every key, as without a limit.
import type { Row, Sql } from "postgres";
import type { DateRange } from "../query/date-range.js";
import { runStatsQuery, toNumber } from "../query/query-sql.js";
import type { FilterTerm } from "./stats-filter.js";
import { fromUsageParts, summedTotalsColumns, topKeys } from "./usage-sources.js";

/** How many keys of each bucket's head the top-N search reads, per key asked for (and at least). */
const DEPTH_PER_KEY = 4;
const MIN_DEPTH = 20;

/**
 * The rows of `dimension` grouped as `column` (`user_id` / `node_name`), by
 * total_tokens descending, ties by key in byte order (null last), the first
 * `limit` of them when given: exactly a plain aggregation's answer.
 */
export async function rankedStats(
  sql: Sql,
  range: DateRange,
  dimension: "user" | "node",
  column: "user_id" | "node_name",
  limit: number | undefined,
  terms: FilterTerm[],
): Promise<Row[]> {
  if (limit !== undefined && terms.length === 0) {
    const depth = Math.max(MIN_DEPTH, limit * DEPTH_PER_KEY);
    const found = await runStatsQuery(sql, range, (q) => q`${topKeys(q, range, dimension, column, limit, depth)}`);
    const last = found[limit - 1];
    // Proven: `limit` keys, the last one above anything a key outside the heads can have.
    if (last && toNumber(last.total_tokens) > toNumber(last.bound)) return found;
  }
  return runStatsQuery(sql, range, (q) =>
    fromUsageParts(
      q,
      range,
      dimension,
      q`${q(column)}, ${summedTotalsColumns(q)}`,
      // Buckets emptied by deletes stay in the rollup with zero calls; a group of only those had no rows.
      q`GROUP BY ${q(column)} HAVING sum(calls) > 0 ORDER BY total_tokens DESC, ${q(column)} COLLATE "C" ASC NULLS LAST
        ${limit === undefined ? q`` : q`LIMIT ${limit}`}`,
      terms,
    ),
  );
}
