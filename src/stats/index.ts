// `llm-tracker/stats`: usage figures for reporting jobs. Needs only Postgres:
// nothing here loads a provider SDK or BullMQ.
export { getSummaryStats } from "./get-summary-stats.js";
export { getStatsByModel } from "./get-stats-by-model.js";
export { getStatsByDay } from "./get-stats-by-day.js";
export { getStatsByUser } from "./get-stats-by-user.js";
export { getStatsByNode } from "./get-stats-by-node.js";
export { getStatsOverTime, MAX_BUCKETS, MAX_ENTRIES } from "./get-stats-over-time.js";
export { getRecentFailures, MAX_FAILURES } from "./get-recent-failures.js";
export { close } from "../query/query-connection.js";
// Re-pricing needs only Postgres and the price book, so it sits with the reports.
export { recomputeCosts } from "../cost/recompute-costs.js";
export type { RecomputeCostsOptions, RecomputeCostsResult } from "../cost/recompute-costs.js";
export type { StatsDatabase } from "../query/query-connection.js";
export type { DateInput } from "../query/date-range.js";
export type {
  DayStats,
  ModelStats,
  NodeStats,
  OverTimeGroupBy,
  OverTimeOptions,
  OverTimeStats,
  RankedStatsOptions,
  RecentFailure,
  RecentFailuresOptions,
  StatsOptions,
  SummaryStats,
  TokenTotals,
  UserStats,
} from "./stats-options.js";
export type { StatsFilter } from "./stats-filter.js";
export { createConnection, type ConnectionOptions, type DatabaseConnection } from "../db/connection.js";
export { configure } from "../config/settings.js";
export { InvalidInputError } from "../errors/invalid-input-error.js";
