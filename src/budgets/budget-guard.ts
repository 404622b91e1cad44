// The check on the call path: before a tracked call, is any budget that applies
// to it (global, its user's, its node's) already spent in the current period?
//
// The answer comes from a local snapshot of the spend, refreshed from Redis in the
// background with one pipelined round trip; entries younger than the cache lifetime
// (LLM_TRACKER_BUDGET_CACHE_MS) are trusted as they are, older ones are still used
// while a refresh runs. The SDK wrappers must return the SDK's own promise
// synchronously, so their check never waits (it uses what it has, even stale, and
// reads in the background); callAndTrack/streamAndTrack wait for one refresh (one
// round trip) when what they need is missing or older than the lifetime. Redis
// unreachable: the call is allowed; the failure is logged (once per outage) and counted.
import type { Budget } from "../config/settings.js";
import { BudgetExceededError } from "../errors/budget-exceeded-error.js";
import type { Logger } from "../logger.js";
import type { RedisClient } from "../redis/redis-client.js";
import { PeriodClock, type Period } from "./budget-periods.js";
import { parseUnits, periodHashKey, spendField, unitsToUsd, usdToUnits } from "./spend-keys.js";

/** Counted by the guard since it was made; pushed to Redis for the worker's /metrics. */
export interface BudgetCounters {
  /** Calls refused with BudgetExceededError. */
  refusals: number;
  /** Refreshes that could not read Redis (calls were allowed on what was known, or on nothing). */
  checkFailures: number;
  /** Calls allowed with nothing known of a budget's spend (cold snapshot and Redis not answering in time). */
  allowedUnknown: number;
}

export interface BudgetGuardOptions {
  budgets: readonly Budget[];
  redis: RedisClient;
  keyBase: string;
  /** How long a read of the spend is trusted without a refresh, in ms. */
  cacheMs: number;
  logger: Logger;
  /** Longest wait of a cold check for Redis, in ms. Default 1000. */
  coldWaitMs?: number;
}

interface Rule {
  budget: Budget;
  clock: PeriodClock;
  limitUnits: bigint;
  /** Label for the refusal counter in Redis. */
  label: string;
  /** The hash of the clock's current period, kept with the period it was made for. */
  period: Period | undefined;
  hash: string;
}

interface Entry {
  units: bigint;
  /** When the read that produced it was sent (performance-free Date.now()). */
  readAt: number;
}

/** Known spend older than this many cache lifetimes is forgotten when Redis does not answer: the calls it would refuse are allowed. */
const MAX_AGE_LIFETIMES = 10;
/** Spend not read for this long (nobody of that scope called; or its period is over) is forgotten, so the copy does not grow without end. */
const FORGET_AFTER_MS = 3_600_000;

export class BudgetGuard {
  private readonly rules: Rule[];
  private readonly entries = new Map<string, Entry>();
  /** hash → fields to read at the next refresh. */
  private wanted = new Map<string, Set<string>>();
  private refreshing: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private closed = false;
  private readonly maxAgeMs: number;
  private readonly pendingRefusals = new Map<string, number>();
  private pendingFailures = 0;
  private lastSweep = Date.now();
  readonly counters: BudgetCounters = { refusals: 0, checkFailures: 0, allowedUnknown: 0 };

  constructor(private readonly options: BudgetGuardOptions) {
    const clocks = new Map<string, PeriodClock>();
    this.rules = options.budgets.map((budget) => {
      const id = `${budget.period}\n${budget.timeZone}`;
      let clock = clocks.get(id);
      if (!clock) clocks.set(id, (clock = new PeriodClock(budget.period, budget.timeZone)));
      return {
        budget,
        clock,
        limitUnits: usdToUnits(budget.limitUsd),
        label: `${budget.scope}|${budget.key ?? "*"}|${budget.period}|${budget.timeZone}`,
        period: undefined,
        hash: "",
      };
    });
    this.maxAgeMs = options.cacheMs * MAX_AGE_LIFETIMES;
  }

  /**
   * The synchronous check (the SDK wrappers): throws BudgetExceededError when a budget that
   * applies to this call is known to be spent; otherwise returns at once. What is unknown
   * or stale is read in the background for the next call.
   */
  check(userId: string | null, nodeName: string): void {
    this.evaluate(userId, nodeName, Date.now(), false);
  }

  /**
   * The check of callAndTrack/streamAndTrack: as check(), but when what is known of a budget
   * that applies is missing or older than the cache lifetime, waits for one read from Redis
   * (one round trip, bounded by coldWaitMs) first.
   */
  async checkBeforeCall(userId: string | null, nodeName: string): Promise<void> {
    // While Redis does not answer, no call waits for it: decide on what is known, read in the background.
    if (this.failing) return this.check(userId, nodeName);
    if (this.evaluate(userId, nodeName, Date.now(), true)) return;
    await this.refreshNow();
    this.evaluate(userId, nodeName, Date.now(), false);
  }

  /**
   * Returns true when what is known of every applicable budget is fresh; throws when one is spent.
   * A `probe` leaves the read to its caller (which awaits it) and does not count the unknown.
   */
  private evaluate(userId: string | null, nodeName: string, now: number, probe: boolean): boolean {
    let fresh = true;
    let stale = false;
    for (const rule of this.rules) {
      const { budget } = rule;
      const subject = budget.scope === "global" ? null : budget.scope === "user" ? userId : nodeName;
      if (budget.scope !== "global" && (subject === null || (budget.key !== null && budget.key !== subject))) continue;
      const period = rule.clock.at(now);
      if (period !== rule.period) {
        rule.period = period;
        rule.hash = periodHashKey(this.options.keyBase, budget.period, budget.timeZone, period.label);
      }
      const field = spendField(budget.scope, subject)!;
      const entry = this.entries.get(`${rule.hash}\n${field}`);
      const old = entry === undefined || now - entry.readAt > this.options.cacheMs;
      if (old) {
        this.want(rule.hash, field);
        stale = true;
        fresh = false;
      }
      if (entry === undefined) {
        if (!probe) this.counters.allowedUnknown += 1;
        continue;
      }
      if (entry.units >= rule.limitUnits) {
        // A probe whose knowledge is stale reads again first (the spend may have been rebuilt lower);
        // it goes on, so that one read covers every budget of the call.
        if (probe && old) continue;
        this.counters.refusals += 1;
        this.pendingRefusals.set(rule.label, (this.pendingRefusals.get(rule.label) ?? 0) + 1);
        if (old) this.refreshSoon();
        throw new BudgetExceededError(budget.scope, subject, budget.period, budget.limitUsd, unitsToUsd(entry.units), budget.timeZone);
      }
    }
    if (stale && !probe) this.refreshSoon();
    return fresh;
  }

  private want(hash: string, field: string): void {
    let fields = this.wanted.get(hash);
    if (!fields) this.wanted.set(hash, (fields = new Set()));
    fields.add(field);
  }

  /** Starts a background refresh unless one runs (then it runs once more after it). */
  private refreshSoon(): void {
    if (this.closed) return;
    if (this.refreshing) {
      this.again = true;
      return;
    }
    void this.refreshNow();
  }

  /** One refresh of everything wanted; joins a running one. Never rejects. */
  refreshNow(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.refreshNow();
      }
    });
    return this.refreshing;
  }

  private async refresh(): Promise<void> {
    const wanted = this.wanted;
    this.wanted = new Map();
    const refusals = [...this.pendingRefusals];
    this.pendingRefusals.clear();
    const failures = this.pendingFailures;
    this.pendingFailures = 0;
    if (wanted.size === 0 && refusals.length === 0 && failures === 0) return;
    const sentAt = Date.now();
    const hashes = [...wanted.keys()];
    try {
      await whenReady(this.options.redis, this.options.coldWaitMs ?? 1_000);
      const pipeline = this.options.redis.pipeline();
      for (const hash of hashes) pipeline.hmget(hash, ...wanted.get(hash)!);
      const countersKey = `${this.options.keyBase}:counters`;
      for (const [label, n] of refusals) pipeline.hincrby(countersKey, `refusals|${label}`, n);
      if (failures > 0) pipeline.hincrby(countersKey, "check_failures", failures);
      const results = (await pipeline.exec()) ?? [];
      hashes.forEach((hash, i) => {
        const [error, values] = results[i] ?? [new Error("no reply")];
        if (error) throw error;
        [...wanted.get(hash)!].forEach((field, j) => {
          this.entries.set(`${hash}\n${field}`, { units: parseUnits((values as (string | null)[])[j]), readAt: sentAt });
        });
      });
      if (sentAt - this.lastSweep > 60_000) {
        this.lastSweep = sentAt;
        for (const [key, entry] of this.entries) if (sentAt - entry.readAt > FORGET_AFTER_MS) this.entries.delete(key);
      }
      if (this.failing) this.options.logger.info("budget spend readable from Redis again");
      this.failing = false;
    } catch (error) {
      if (this.closed) return; // closed (reconfigured, shut down) while reading: nobody is waiting for this
      // Nothing read: what was wanted is wanted again, and counts are pushed later.
      for (const [hash, fields] of wanted) for (const field of fields) this.want(hash, field);
      for (const [label, n] of refusals) this.pendingRefusals.set(label, (this.pendingRefusals.get(label) ?? 0) + n);
      this.pendingFailures += failures + 1;
      this.counters.checkFailures += 1;
      for (const [key, entry] of this.entries) if (sentAt - entry.readAt > this.maxAgeMs) this.entries.delete(key);
      if (!this.failing) {
        this.options.logger.warn({ error: (error instanceof Error ? error.message : String(error)).slice(0, 200) }, "budget check could not read spend from Redis; calls are allowed on what was last known (nothing after a while)");
      }
      this.failing = true;
    }
  }

  close(): void {
    this.closed = true;
  }
}

/** Resolves once the client can take commands; rejects when it is not ready within `ms` or is reconnecting after a failure. */
export function whenReady(client: RedisClient, ms: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  if (client.status !== "wait" && client.status !== "connecting" && client.status !== "connect") {
    return Promise.reject(new Error(`Redis connection is ${client.status}`));
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Redis not ready within ${ms} ms`)), ms);
    timer.unref();
    const onReady = () => done();
    const onEnd = () => done(new Error("Redis connection closed"));
    client.once("ready", onReady);
    client.once("end", onEnd);
    function done(error?: Error) {
      clearTimeout(timer);
      client.removeListener("ready", onReady);
      client.removeListener("end", onEnd);
      if (error) reject(error);
      else resolve();
    }
  });
}
