// The options every stats function takes and the rows it returns.
import type { QueryOptions } from "../query/query-options.js";

/** `timeZone` and `db`; see QueryOptions. */
export type StatsOptions = QueryOptions;

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
