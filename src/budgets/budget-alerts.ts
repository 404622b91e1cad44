// The worker's log lines when a budget crosses 80 % and 100 % of its limit in a
// period: one line per crossing across every worker (a Redis SET NX decides who says it).
import type { Budget } from "../config/settings.js";
import type { Logger } from "../logger.js";
import type { RedisClient } from "../redis/redis-client.js";
import { readBudgetStatus } from "./budget-status.js";

const LEVELS = [1, 0.8] as const;

export class BudgetAlerts {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly said = new Set<string>();

  constructor(
    private readonly budgets: readonly Budget[],
    private readonly redis: RedisClient,
    private readonly keyBase: string,
    private readonly logger: Logger,
    /** Longest delay between a change of spend and its log line, in ms (reads are batched). Default 1000. */
    private readonly intervalMs = 1_000,
  ) {}

  /** Spend moved: look (at most once per intervalMs). */
  changed(): void {
    if (this.stopped || this.timer || this.budgets.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.look().finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  async look(): Promise<void> {
    let statuses;
    try {
      statuses = await readBudgetStatus(this.redis, this.keyBase, this.budgets);
    } catch {
      return; // Redis away: the next change looks again
    }
    for (const status of statuses) {
      if (status.limit_usd <= 0) continue;
      const ratio = status.spent_usd / status.limit_usd;
      const level = LEVELS.find((l) => ratio >= l);
      if (level === undefined) continue;
      const id = `${this.keyBase}:alert:${status.scope}:${status.key ?? ""}:${status.period}:${status.time_zone}:${status.period_start}:${level}`;
      if (this.said.has(id)) continue;
      const first = await this.redis.set(id, "1", "PXAT", Date.parse(status.period_end) + 86_400_000, "NX").catch(() => null);
      this.said.add(id);
      if (first !== "OK") continue;
      const fields = { scope: status.scope, key: status.key, period: status.period, timeZone: status.time_zone, limitUsd: status.limit_usd, spentUsd: status.spent_usd, periodStart: status.period_start };
      if (level === 1) this.logger.warn(fields, "budget reached 100 %: calls in its scope are refused until the period ends");
      else this.logger.warn(fields, "budget crossed 80 %");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
