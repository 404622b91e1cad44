// The latest failed calls, newest first: what an admin page lists under "recent errors".
import { InvalidInputError } from "../errors/invalid-input-error.js";
import { parseDateRange, type DateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import { inRange, runStatsQuery } from "../query/query-sql.js";
import { parseStatsFilter, rawRowsMatching } from "./stats-filter.js";
import { parseLimit } from "./stats-limit.js";
import type { RecentFailure, RecentFailuresOptions } from "./stats-options.js";
import { isoInZone } from "./time-buckets.js";

/** The most failures one call returns. */
export const MAX_FAILURES = 1_000;
const DEFAULT_LIMIT = 20;

/**
 * The `limit` (default 20, at most MAX_FAILURES) most recent rows with
 * `success = false` created in [options.startDate, options.endDate) (default:
 * any time) and matching `options.filter`, newest first (ties by id, descending). `created_at` is ISO 8601
 * text with microseconds, in `options.timeZone` (default UTC).
 */
export async function getRecentFailures(limit: number = DEFAULT_LIMIT, options: RecentFailuresOptions = {}): Promise<RecentFailure[]> {
  const count = parseLimit("limit", limit, MAX_FAILURES)!;
  const range = parseOptionRange(options);
  const terms = parseStatsFilter(options.filter);
  const sql = statsSql(options.db);
  const rows = await runStatsQuery(sql, range, (q) => q`
    SELECT id, ${isoInZone(q, q`created_at`, range.timeZone, { micros: true })} AS created_at, provider, model, user_id,
      metadata->>'node_name' AS node_name, error, latency_ms
    FROM llm_tracker_usage AS u
    WHERE NOT success AND ${inRange(q, range)} ${rawRowsMatching(q, terms)}
    ORDER BY u.created_at DESC, u.id DESC
    LIMIT ${count}::int`);
  return rows.map((row) => ({
    id: row.id as string,
    created_at: row.created_at as string,
    provider: (row.provider as string | null) ?? null,
    model: row.model as string,
    user_id: (row.user_id as string | null) ?? null,
    node_name: (row.node_name as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    latency_ms: (row.latency_ms as number | null) ?? null,
  }));
}

/** The range of the options, its errors naming `options.startDate` / `options.endDate`. */
function parseOptionRange(options: RecentFailuresOptions): DateRange {
  try {
    return parseDateRange(options.startDate, options.endDate, options.timeZone);
  } catch (error) {
    if (error instanceof InvalidInputError && (error.argument === "startDate" || error.argument === "endDate")) {
      throw new InvalidInputError(`options.${error.argument}`, error.message.slice(error.argument.length + 2));
    }
    throw error;
  }
}
