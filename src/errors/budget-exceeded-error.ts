import { LLMTrackerError } from "./llm-tracker-error.js";

/**
 * Thrown before any provider call when a budget of `LLM_TRACKER_BUDGETS` has been reached:
 * the scope (`global`, or the call's user / node) has spent `spent_usd` in the current
 * `period`, at or past `limit_usd`. No provider call is made and nothing is recorded
 * (the refusal is counted instead). `key` is the user id or node name, null for `global`.
 */
export class BudgetExceededError extends LLMTrackerError {
  constructor(
    readonly scope: "global" | "user" | "node",
    readonly key: string | null,
    readonly period: "day" | "month",
    readonly limit_usd: number,
    readonly spent_usd: number,
    /** The zone whose midnight starts the period. */
    readonly time_zone: string,
  ) {
    super(`Budget exceeded: ${scope === "global" ? "global" : `${scope} ${JSON.stringify(key)}`} has spent ${formatUsd(spent_usd)} of its ${formatUsd(limit_usd)} ${period === "day" ? "daily" : "monthly"} budget (${time_zone})`);
  }
}

function formatUsd(usd: number): string {
  return `$${usd.toFixed(usd !== 0 && Math.abs(usd) < 0.01 ? 6 : 2)}`;
}
