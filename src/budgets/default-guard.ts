// The process-wide budget guard the tracked calls consult, built from the settings on
// first use and rebuilt after configure(); null (and free) when no budget is configured.
import { getTrackerSettings, onConfigurationChange } from "../config/settings.js";
import { createLogger } from "../logger.js";
import { createRedisClient, onEachNode, type RedisClient } from "../redis/redis-client.js";
import { BudgetGuard, whenReady } from "./budget-guard.js";
import { readBudgetStatus, type BudgetStatus, type BudgetStatusOptions } from "./budget-status.js";
import { spendKeyBase } from "./spend-keys.js";

let current: { guard: BudgetGuard; redis: RedisClient; keyBase: string } | null | undefined;

onConfigurationChange(() => closeBudgetGuard());

function build(): NonNullable<typeof current> | null {
  const settings = getTrackerSettings();
  if (settings.budgets.length === 0) return null;
  // Like the producer's: fails fast while Redis is away, and never keeps the application alive.
  const redis = createRedisClient(
    { url: settings.redisUrl, cluster: settings.redisCluster },
    { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeoutMs: 1_000, connectTimeoutMs: 5_000, retryDelayMs: (attempt) => Math.min(50 * 2 ** attempt, 2_000) },
  );
  redis.on("error", () => {}); // a failed read is logged and counted by the guard
  onEachNode(redis, (node) => node.on("connect", () => (node as unknown as { stream?: { unref?: () => void } }).stream?.unref?.()));
  redis.on("reconnecting", () => (redis as unknown as { reconnectTimeout?: { unref?: () => void } | null }).reconnectTimeout?.unref?.());
  const keyBase = spendKeyBase(settings.queuePrefix, settings.queueName);
  const guard = new BudgetGuard({ budgets: settings.budgets, redis, keyBase, cacheMs: settings.budgetCacheMs, logger: createLogger(settings.logLevel) });
  return { guard, redis, keyBase };
}

/** The guard for the current settings, or null when LLM_TRACKER_BUDGETS is empty. Throws ConfigError for a bad setting. */
export function getBudgetGuard(): BudgetGuard | null {
  if (current === undefined) current = build();
  return current?.guard ?? null;
}

/** Closes the guard's connection; the next check builds a new one. */
export function closeBudgetGuard(): void {
  const closing = current;
  current = undefined;
  if (!closing) return;
  closing.guard.close();
  closing.redis.disconnect();
}

/**
 * Each budget's spend in its current period, read from Redis now (not from the call
 * path's snapshot): `[{ scope, key, period, time_zone, limit_usd, spent_usd, remaining_usd,
 * period_start, period_end }]`. A budget over every user (or node) lists each user that has
 * spent in the period, most first (`options.userId` narrows it to one). Rejects when Redis
 * can not be read. [] when no budget is configured.
 */
export async function getBudgetStatus(options: BudgetStatusOptions = {}): Promise<BudgetStatus[]> {
  getBudgetGuard();
  if (!current) return [];
  const settings = getTrackerSettings();
  await whenReady(current.redis, 5_000);
  return readBudgetStatus(current.redis, current.keyBase, settings.budgets, options);
}
