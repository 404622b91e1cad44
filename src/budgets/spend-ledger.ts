// The worker's side of budgets: it adds the cost of the rows it actually inserted
// to each budget period's spend in Redis, and rebuilds that spend exactly from
// Postgres at start, when a period's hash is new or missing (a new period, a Redis
// flush), and after Redis was unreachable (increments were lost).
//
// The race between a rebuild and the increments of other workers is settled with
// Postgres transaction ids, not with timing:
// - each insert returns its transaction id (xid) with its rows (RETURNING);
// - a rebuild first starts a journal in Redis (every increment from then on is also
//   journalled with its xid), then reads the sums in one REPEATABLE READ transaction
//   together with that transaction's snapshot (pg_current_snapshot());
// - it finishes in one Redis script: new spend = the sums + the journalled deltas of
//   the transactions the snapshot did not see, stamped with the snapshot;
// - from then on an increment whose xid the stamped snapshot saw is skipped (its
//   rows are in the sums already), however late it arrives.
// So each inserted row counts exactly once, whatever the interleaving. An increment
// lost between COMMIT and Redis (a worker killed there, Redis away) is recovered by
// the next rebuild: at the restarted worker's start, or when Redis answers again.
import { randomUUID } from "node:crypto";
import type { Sql } from "postgres";
import type { Budget } from "../config/settings.js";
import type { Logger } from "../logger.js";
import type { RedisClient } from "../redis/redis-client.js";
import { PeriodClock, type Period } from "./budget-periods.js";
import { ABORT_REBUILD_SCRIPT, BEGIN_REBUILD_SCRIPT, FINISH_REBUILD_SCRIPT, INCREMENT_SCRIPT } from "./spend-scripts.js";
import { periodHashKey, spendField, usdTextToUnits } from "./spend-keys.js";

/** A row the worker inserted, as its INSERT … RETURNING handed it back. */
export interface InsertedCost {
  user_id: string | null;
  node_name: string | null;
  /** created_at in epoch ms. */
  created_ms: number;
  /** numeric text at the column's scale; null when unpriced. */
  cost_usd: string | null;
}

/** One INSERT statement's new rows and the transaction that committed them. */
export interface CommittedInsert {
  xid: string;
  rows: InsertedCost[];
}

export interface SpendLedgerOptions {
  budgets: readonly Budget[];
  redis: RedisClient;
  sql: Sql;
  /** spendKeyBase(prefix, queue). */
  keyBase: string;
  logger: Logger;
  /** How often the current periods' hashes are checked for a missing snapshot (flush, new period), in ms. Default 5000. */
  checkIntervalMs?: number;
  /** A rebuild's lock and journal live this long, in ms; a rebuild slower than this gives up and is retried. Default 60000. */
  rebuildTtlMs?: number;
  /** Called after each period's spend moved (for threshold log lines and metrics). */
  onChange?: (hashKey: string) => void;
}

/** A (period kind, zone) some budget counts in, and which scopes it needs. */
export interface Track {
  clock: PeriodClock;
  global: boolean;
  users: boolean;
  nodes: boolean;
}

/** A hash stays one day past its period, for late readers (the CLI, a dashboard). */
const KEEP_AFTER_END_S = 86_400;

export class SpendLedger {
  private readonly tracks: Track[];
  private readonly dirty = new Set<string>();
  private readonly rebuilding = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  private readonly checkIntervalMs: number;
  private readonly rebuildTtlMs: number;
  /** Rebuilds done (tests and metrics). */
  rebuilds = 0;
  /** Increments that could not reach Redis (their hashes are rebuilt once it answers). */
  incrementFailures = 0;

  constructor(private readonly options: SpendLedgerOptions) {
    this.checkIntervalMs = options.checkIntervalMs ?? 5_000;
    this.rebuildTtlMs = options.rebuildTtlMs ?? 60_000;
    const byPeriod = new Map<string, Track>();
    for (const budget of options.budgets) {
      const id = `${budget.period}\n${budget.timeZone}`;
      let track = byPeriod.get(id);
      if (!track) byPeriod.set(id, (track = { clock: new PeriodClock(budget.period, budget.timeZone), global: false, users: false, nodes: false }));
      if (budget.scope === "global") track.global = true;
      else if (budget.scope === "user") track.users = true;
      else track.nodes = true;
    }
    this.tracks = [...byPeriod.values()];
  }

  /** Rebuilds every current period, then checks them every checkIntervalMs. Never rejects (failures are retried). */
  async start(): Promise<void> {
    if (this.tracks.length === 0) return;
    for (const track of this.tracks) this.dirty.add(this.hashOf(track, track.clock.at(Date.now())));
    await this.rebuildDirty();
    const tick = () => {
      if (this.stopped) return;
      this.checking = this.check().finally(() => {
        this.checking = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.checkIntervalMs);
      });
    };
    this.timer = setTimeout(tick, this.checkIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.checking;
    await Promise.allSettled(this.rebuilding.values());
  }

  /** The current period's hash of each (kind, zone). */
  currentHashes(now = Date.now()): { hash: string; period: Period; track: Track }[] {
    return this.tracks.map((track) => {
      const period = track.clock.at(now);
      return { hash: this.hashOf(track, period), period, track };
    });
  }

  private hashOf(track: Track, period: Period): string {
    return periodHashKey(this.options.keyBase, track.clock.period, track.clock.timeZone, period.label);
  }

  /**
   * Adds one committed insert's costs to the current periods. Called after COMMIT; never
   * rejects: a failure (Redis away) marks the periods for a rebuild, which recovers them.
   */
  async add(insert: CommittedInsert): Promise<void> {
    if (this.tracks.length === 0 || insert.rows.length === 0) return;
    const now = Date.now();
    const keys: string[] = [];
    const args: (string | number)[] = [insert.xid];
    const hashes: string[] = [];
    for (const { hash, period, track } of this.currentHashes(now)) {
      const deltas = new Map<string, bigint>();
      const add = (field: string | null, units: bigint) => {
        if (field !== null) deltas.set(field, (deltas.get(field) ?? 0n) + units);
      };
      for (const row of insert.rows) {
        if (row.cost_usd === null) continue;
        const at = row.created_ms;
        // A row of another period (late, or from a skewed clock) does not count in the current one.
        if (at < period.start || at >= period.end) continue;
        const units = usdTextToUnits(row.cost_usd);
        if (track.global) add(spendField("global", null), units);
        if (track.users) add(spendField("user", row.user_id), units);
        if (track.nodes) add(spendField("node", row.node_name), units);
      }
      if (deltas.size === 0) continue;
      keys.push(hash, `${hash}:rebuilding`, `${hash}:journal`);
      hashes.push(hash);
      args.push(Math.ceil(period.end / 1_000) + KEEP_AFTER_END_S, deltas.size);
      for (const [field, units] of deltas) args.push(field, units.toString());
    }
    if (keys.length === 0) return;
    try {
      const unrebuilt = (await this.options.redis.eval(INCREMENT_SCRIPT, keys.length, ...keys, ...args)) as number[];
      for (const index of unrebuilt) this.markDirty(hashes[index - 1]!);
      for (const hash of hashes) this.options.onChange?.(hash);
    } catch (error) {
      this.incrementFailures += 1;
      for (const hash of hashes) this.markDirty(hash);
      this.options.logger.warn({ error: describe(error), hashes: hashes.length }, "budget spend not updated in Redis; it will be rebuilt from Postgres when Redis answers");
    }
  }

  /**
   * Rows may have been committed without being returned (an INSERT whose COMMIT's answer was
   * lost, then retried): rebuild the current periods once Postgres answers.
   */
  rebuildSoon(): void {
    for (const { hash } of this.currentHashes()) this.dirty.add(hash);
  }

  private markDirty(hash: string): void {
    this.dirty.add(hash);
    if (!this.rebuilding.has(hash) && !this.stopped) void this.rebuildDirty();
  }

  /** Looks for current hashes without a snapshot (new period, Redis flushed) and rebuilds what is dirty. */
  private async check(): Promise<void> {
    try {
      const current = this.currentHashes();
      const pipeline = this.options.redis.pipeline();
      for (const { hash } of current) pipeline.hexists(hash, "__snapshot");
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([error, exists], i) => {
        if (!error && exists === 0) this.dirty.add(current[i]!.hash);
      });
    } catch {
      // Redis away: the next tick looks again.
    }
    await this.rebuildDirty();
  }

  private async rebuildDirty(): Promise<void> {
    await Promise.allSettled(
      [...this.dirty].map((hash) => {
        let running = this.rebuilding.get(hash);
        if (!running) {
          this.dirty.delete(hash);
          running = this.rebuild(hash)
            .catch((error: unknown) => {
              this.dirty.add(hash); // retried at the next check
              this.options.logger.warn({ error: describe(error), hash }, "budget spend rebuild failed; retrying");
            })
            .finally(() => this.rebuilding.delete(hash));
          this.rebuilding.set(hash, running);
        }
        return running;
      }),
    );
  }

  /** Rebuilds one period's hash from Postgres (see the module comment). Resolves once done, or skipped because another worker holds the rebuild. */
  private async rebuild(hash: string): Promise<void> {
    const entry = this.currentHashes().find((c) => c.hash === hash);
    if (!entry) return; // the period ended meanwhile: nobody checks it any more
    const { period, track } = entry;
    const { redis, sql } = this.options;
    const token = randomUUID();
    const lock = `${hash}:lock`;
    const marker = `${hash}:rebuilding`;
    const journal = `${hash}:journal`;
    const began = (await redis.eval(BEGIN_REBUILD_SCRIPT, 3, lock, marker, journal, token, this.rebuildTtlMs)) as number;
    if (began !== 1) {
      // Another worker rebuilds it now; its snapshot may predate our lost increments, so look again later.
      this.dirty.add(hash);
      return;
    }
    let read: { snapshot: string; sums: Map<string, bigint> };
    try {
      read = await readSpend(sql, period, track);
    } catch (error) {
      await redis.eval(ABORT_REBUILD_SCRIPT, 3, lock, marker, journal, token).catch(() => {});
      throw error;
    }
    const args: string[] = [token, read.snapshot, String(Math.ceil(period.end / 1_000) + KEEP_AFTER_END_S)];
    for (const [field, units] of read.sums) args.push(field, units.toString());
    const finished = (await redis.eval(FINISH_REBUILD_SCRIPT, 5, hash, lock, marker, journal, `${hash}:staging`, ...args)) as number;
    if (finished !== 1) throw new Error("the rebuild took longer than its lock lives (rebuildTtlMs)");
    this.rebuilds += 1;
    this.options.logger.debug({ hash, fields: read.sums.size }, "budget spend rebuilt from Postgres");
    this.options.onChange?.(hash);
  }
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The spend of one period as of one snapshot: whole UTC days and hours from the rollup,
 * the edges of a zone whose midnight is not a whole UTC hour (+05:30, +05:45) from the raw rows.
 */
export async function readSpend(sql: Sql, period: Period, track: { global: boolean; users: boolean; nodes: boolean }): Promise<{ snapshot: string; sums: Map<string, bigint> }> {
  const hourLo = Math.ceil(period.start / HOUR) * HOUR;
  const hourHi = Math.max(hourLo, Math.floor(period.end / HOUR) * HOUR);
  const dayLo = Math.ceil(hourLo / DAY) * DAY;
  const dayHi = Math.floor(hourHi / DAY) * DAY;
  // [grain, from, to) spans of the rollup covering [hourLo, hourHi) exactly.
  const spans: [string, number, number][] =
    dayLo < dayHi
      ? [["hour", hourLo, dayLo], ["day", dayLo, dayHi], ["hour", dayHi, hourHi]]
      : [["hour", hourLo, hourHi]];
  const dimensions = [track.global ? "model" : null, track.users ? "user" : null, track.nodes ? "node" : null].filter((d): d is string => d !== null);
  const iso = (ms: number) => new Date(ms).toISOString();
  return sql.begin("isolation level repeatable read read only", async (tx) => {
    // The first statement fixes the transaction's snapshot: the one the sums below see.
    const [{ snapshot }] = (await tx`SELECT pg_current_snapshot()::text AS snapshot`) as unknown as [{ snapshot: string }];
    const sums = new Map<string, bigint>();
    const add = (field: string | null, cost: string | null) => {
      if (field === null || cost === null) return;
      sums.set(field, (sums.get(field) ?? 0n) + usdTextToUnits(cost));
    };
    for (const [grain, from, to] of spans) {
      if (from >= to) continue;
      const rows = await tx<{ dimension: string; key_is_null: boolean; key: string; cost: string | null }[]>`
        SELECT dimension, key_is_null, key, sum(cost_usd)::text AS cost
        FROM llm_tracker_usage_rollup
        WHERE grain = ${grain} AND dimension IN ${tx(dimensions)}
          AND bucket >= ${iso(from)}::timestamptz AND bucket < ${iso(to)}::timestamptz
        GROUP BY dimension, key_is_null, key`;
      for (const row of rows) {
        if (row.dimension === "model") add("g", row.cost);
        else if (!row.key_is_null) add(spendField(row.dimension === "user" ? "user" : "node", row.key), row.cost);
      }
    }
    const edges = [
      [period.start, hourLo],
      [hourHi, period.end],
    ].filter(([from, to]) => from! < to!);
    for (const [from, to] of edges) {
      const rows = await tx<{ user_id: string | null; node_name: string | null; cost: string | null }[]>`
        SELECT user_id, metadata->>'node_name' AS node_name, sum(cost_usd)::text AS cost
        FROM llm_tracker_usage
        WHERE created_at >= ${iso(from!)}::timestamptz AND created_at < ${iso(to!)}::timestamptz
        GROUP BY 1, 2`;
      for (const row of rows) {
        if (track.global) add("g", row.cost);
        if (track.users) add(spendField("user", row.user_id), row.cost);
        if (track.nodes) add(spendField("node", row.node_name), row.cost);
      }
    }
    return { snapshot, sums };
  });
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
