// Merges the rollup's appended partial sums (one per key per insert statement,
// compacted = false) into one compacted row per key, so the stats read few rows
// and the top-N search can read a bucket's keys in token order. The merge
// itself is SQL (llm_tracker_usage_rollup_compact, drizzle/0006) and exact
// under concurrent writers; this module only decides when it runs.
import type { Sql } from "postgres";
import type { Logger } from "../logger.js";
import { startPeriodicPass } from "./periodic-pass.js";

/** Traffic lands in the current hour and day: most passes look only this far back. */
const RECENT_MS = 48 * 60 * 60 * 1000;
/** Every this many passes (and at start) the whole table is merged: late replays and re-pricing touch old buckets. */
const FULL_PASS_EVERY = 60;

/** Merges every key's rows in buckets from `since` on (default: all). Resolves to the rows removed. */
export async function compactRollup(sql: Sql, since?: Date): Promise<number> {
  const [row] = await sql<{ removed: string }[]>`
    SELECT llm_tracker_usage_rollup_compact(${since ? since.toISOString() : "-infinity"}::text::timestamptz) AS removed`;
  return Number(row?.removed ?? 0);
}

export interface RollupCompaction {
  /** Stops the timer and waits for a running pass; idempotent. */
  stop(): Promise<void>;
}

/**
 * Compacts the whole rollup at start and every 60th pass, the last 48 hours
 * every `intervalMs` in between.
 * A failed pass (Postgres away) is logged and retried at the next tick: the
 * stats stay exact without compaction, only slower.
 */
export function startRollupCompaction(options: { sql: Sql; intervalMs: number; logger: Logger }): RollupCompaction {
  const { sql, intervalMs, logger } = options;
  let passes = 0;
  return startPeriodicPass(intervalMs, async () => {
    const since = passes % FULL_PASS_EVERY === 0 ? undefined : new Date(Date.now() - RECENT_MS);
    try {
      const removed = await compactRollup(sql, since);
      passes += 1;
      logger.debug({ removed, since: since?.toISOString() ?? "all" }, "rollup compacted");
    } catch (error) {
      logger.warn({ error: (error as Error).message }, "rollup compaction failed; retrying at the next interval");
    }
  });
}
