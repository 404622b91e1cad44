// The options every stats function takes and the rows it returns.
import type { DateInput } from "../query/date-range.js";
import type { QueryOptions } from "../query/query-options.js";
import type { StatsFilter } from "./stats-filter.js";

/** `timeZone` and `db` (see QueryOptions), and a filter. */
export interface StatsOptions extends QueryOptions {
  /**
   * Only the calls of one user, node and/or model, e.g. `{ userId: "u1" }`
   * (`null` = the calls without a user / node). Default: every call.
   */
  filter?: StatsFilter;
}

/** Token sums, call count and cost shared by the grouped results. */
export interface TokenTotals {
  total_calls: number;
  total_prompt_tokens: number;
  total_completion_tokens: number;
  total_tokens: number;
  /** USD of the priced calls, rounded to 1e-6 (unpriced calls add nothing). */
  total_cost_usd: number;
  /** Mean latency_ms of the calls that have one (to 1e-3 ms); 0 when none has. */
  avg_latency_ms: number;
  /** Mean time to the first delta of the streamed calls (to 1e-3 ms); 0 when none was streamed. */
  avg_time_to_first_token_ms: number;
}

export interface SummaryStats {
  total_prompt_tokens: number;
  total_completion_tokens: number;
  total_tokens: number;
  total_calls: number;
  successful_calls: number;
  failed_calls: number;
  /** USD of the priced calls, rounded to 1e-6 (unpriced calls add nothing). */
  total_cost_usd: number;
  /** Calls whose model had no price (cost null); re-price them with recomputeCosts. */
  unpriced_calls: number;
  /** Mean latency_ms of the calls that have one (to 1e-3 ms); 0 when none has. */
  avg_latency_ms: number;
  /** Mean time to the first delta of the streamed calls (to 1e-3 ms); 0 when none was streamed. */
  avg_time_to_first_token_ms: number;
}

export interface ModelStats extends TokenTotals {
  model: string;
}

export interface DayStats {
  /** `YYYY-MM-DD`, the day in `options.timeZone`. */
  date: string;
  total_calls: number;
  total_tokens: number;
  /** USD of the priced calls, rounded to 1e-6. */
  total_cost_usd: number;
}

export interface UserStats extends TokenTotals {
  /** null groups the calls made without a user. */
  user_id: string | null;
}

export interface NodeStats extends TokenTotals {
  /** `metadata.node_name`; null groups rows that have none. */
  node_name: string | null;
}

/** Options of getStatsByUser and getStatsByNode. */
export interface RankedStatsOptions extends StatsOptions {
  /** Keep only the first `limit` entries (the top N by `total_tokens`), a positive integer. Default: all. */
  limit?: number;
}

/** What getStatsOverTime groups a series by; each adds its column to the entries. */
export type OverTimeGroupBy = "model" | "user" | "node";

/** The entry field each `groupBy` adds to getStatsOverTime's entries. */
export const OVER_TIME_KEY_FIELD = { model: "model", user: "user_id", node: "node_name" } as const satisfies Record<OverTimeGroupBy, string>;

export type OverTimeKeyField = (typeof OVER_TIME_KEY_FIELD)[OverTimeGroupBy];

export interface OverTimeOptions extends StatsOptions {
  /**
   * `hour`: a local clock hour at one UTC offset (on a fall-back night the
   * repeated hour is two buckets, on a spring-forward night the skipped hour is
   * none). `day`: a local calendar day (23 or 25 hours across DST). Required.
   */
  bucket: "hour" | "day";
  /** One series per model, user or node instead of one for all calls. Default: none. */
  groupBy?: OverTimeGroupBy;
  /**
   * With `groupBy`: keep only the top N series by `total_tokens` over the whole
   * range (ties by key, byte order, null last). Default: all.
   */
  limit?: number;
}

/** One bucket of getStatsOverTime; with `groupBy` it also carries `model`, `user_id` or `node_name`. */
export interface OverTimeStats {
  /** The bucket's first instant, ISO 8601 with the zone's offset: `2026-03-08T00:00:00-05:00`. */
  bucket_start: string;
  model?: string;
  user_id?: string | null;
  node_name?: string | null;
  total_calls: number;
  successful_calls: number;
  failed_calls: number;
  total_prompt_tokens: number;
  total_completion_tokens: number;
  total_tokens: number;
  /** USD of the priced calls, rounded to 1e-6 (unpriced calls add nothing). */
  total_cost_usd: number;
  /** Calls whose model had no price. */
  unpriced_calls: number;
  /** Mean latency_ms of the bucket's calls that have one (to 1e-3 ms); 0 when none has. */
  avg_latency_ms: number;
  /** Mean time to the first delta of the bucket's streamed calls (to 1e-3 ms); 0 when none was streamed. */
  avg_time_to_first_token_ms: number;
}

export interface RecentFailuresOptions extends StatsOptions {
  /** Only failures created at or after this (a Date or ISO 8601 string; a date alone is its midnight in `timeZone`). Default: no bound. */
  startDate?: DateInput;
  /** Only failures created before this (a date alone includes that day). Default: no bound. */
  endDate?: DateInput;
}

/** A failed call, as getRecentFailures lists it. */
export interface RecentFailure {
  /** The row's id (the event id). */
  id: string;
  /** When the call happened, ISO 8601 with microseconds and the offset of `options.timeZone`. */
  created_at: string;
  provider: string | null;
  model: string;
  user_id: string | null;
  /** `metadata.node_name`; null when the row has none. */
  node_name: string | null;
  /** The error text the library recorded (never a secret). */
  error: string | null;
  latency_ms: number | null;
}
