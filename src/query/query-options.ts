// The options every read of the usage table takes (the stats and re-pricing).
import type { StatsDatabase } from "./query-connection.js";

export interface QueryOptions {
  /**
   * IANA time zone that decides where a day starts: for date-only arguments
   * (`2026-03-08` is that day's midnight there), for date-times without an
   * offset, and for grouping in getStatsByDay. DST is honoured. Default `UTC`.
   */
  timeZone?: string;
  /**
   * Database to query: a postgres.js client (`postgres(url)`, without a column
   * `transform`) or a connection from `createConnection()`. It stays open; its
   * owner closes it. Default: a shared pool, closed by `close()`, for
   * `LLM_TRACKER_STATS_DATABASE_URL` (a read replica; `DATABASE_URL` when unset)
   * — except `recomputeCosts`, which writes and uses `DATABASE_URL`.
   */
  db?: StatsDatabase;
}
