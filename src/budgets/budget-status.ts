// What each budget has spent in its current period, read from Redis: for
// getBudgetStatus(), `llm-tracker budgets`, the worker's gauges and its 80 % / 100 % log lines.
import type { Budget } from "../config/settings.js";
import type { RedisClient } from "../redis/redis-client.js";
import { periodAt } from "./budget-periods.js";
import { parseUnits, periodHashKey, SNAPSHOT_FIELD, spendField, unitsToUsd, usdToUnits } from "./spend-keys.js";

/** One budget (or, for a budget over every user / node, one user / node of it) in its current period. */
export interface BudgetStatus {
  scope: Budget["scope"];
  /** The user id or node name; null for `global`, and for a budget over every user / node that nobody has spent against yet. */
  key: string | null;
  period: Budget["period"];
  time_zone: string;
  limit_usd: number;
  spent_usd: number;
  /** limit_usd − spent_usd, never below 0. */
  remaining_usd: number;
  /** The current period, ISO 8601 (UTC): [period_start, period_end). */
  period_start: string;
  period_end: string;
}

export interface BudgetStatusOptions {
  /** Of the user budgets, only those that apply to this user (its own, every user's), with this user's spend. */
  userId?: string;
  /** Of the node budgets, only those that apply to this node, with this node's spend. */
  nodeName?: string;
  /** The instant whose periods are read. Default: now. */
  at?: Date;
}

/** Reads every budget's spend (one pipelined round trip) and lists each, most spent first within a budget. */
export async function readBudgetStatus(redis: RedisClient, keyBase: string, budgets: readonly Budget[], options: BudgetStatusOptions = {}): Promise<BudgetStatus[]> {
  const at = (options.at ?? new Date()).getTime();
  const filtered = budgets.filter((b) => {
    if (b.scope === "user") return options.userId === undefined || b.key === null || b.key === options.userId;
    if (b.scope === "node") return options.nodeName === undefined || b.key === null || b.key === options.nodeName;
    return true;
  });
  const periods = filtered.map((b) => ({ budget: b, period: periodAt(b.period, b.timeZone, at) }));
  const hashes = [...new Set(periods.map(({ budget, period }) => periodHashKey(keyBase, budget.period, budget.timeZone, period.label)))];
  const pipeline = redis.pipeline();
  for (const hash of hashes) pipeline.hgetall(hash);
  const results = (await pipeline.exec()) ?? [];
  const contents = new Map<string, Record<string, string>>();
  results.forEach(([error, value], i) => {
    if (error) throw error;
    contents.set(hashes[i]!, value as Record<string, string>);
  });

  const statuses: BudgetStatus[] = [];
  for (const { budget, period } of periods) {
    const fields = contents.get(periodHashKey(keyBase, budget.period, budget.timeZone, period.label)) ?? {};
    const entry = (key: string | null, units: bigint): BudgetStatus => {
      const spent = unitsToUsd(units);
      return {
        scope: budget.scope,
        key,
        period: budget.period,
        time_zone: budget.timeZone,
        limit_usd: budget.limitUsd,
        spent_usd: spent,
        remaining_usd: unitsToUsd(usdToUnits(budget.limitUsd) - units > 0n ? usdToUnits(budget.limitUsd) - units : 0n),
        period_start: new Date(period.start).toISOString(),
        period_end: new Date(period.end).toISOString(),
      };
    };
    const wanted = budget.scope === "user" ? (options.userId ?? budget.key) : budget.scope === "node" ? (options.nodeName ?? budget.key) : null;
    if (budget.scope === "global" || wanted !== null) {
      const field = spendField(budget.scope, wanted)!;
      statuses.push(entry(budget.scope === "global" ? null : wanted, parseUnits(fields[field])));
      continue;
    }
    // Every user / node separately: one entry per key that has spent in the period.
    const prefix = budget.scope === "user" ? "u:" : "n:";
    const keyed = Object.entries(fields)
      .filter(([field]) => field !== SNAPSHOT_FIELD && field.startsWith(prefix))
      .map(([field, value]) => ({ key: field.slice(2), units: parseUnits(value) }))
      .sort((a, b) => (b.units > a.units ? 1 : b.units < a.units ? -1 : a.key.localeCompare(b.key)));
    if (keyed.length === 0) statuses.push(entry(null, 0n));
    for (const { key, units } of keyed) statuses.push(entry(key, units));
  }
  return statuses;
}
