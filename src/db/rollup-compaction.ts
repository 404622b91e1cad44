// Merges the rollup's appended partial sums (one per key per insert statement)
// into one row per key, so the stats read few rows. The merge itself is SQL
// (llm_tracker_usage_rollup_compact, drizzle/0004) and exact under concurrent
// writers; this module only decides when it runs.
import type { Sql } from "postgres";
import type { Logger } from "../logger.js";

/** Buckets older than this are left to the full pass at start-up: traffic lands in the current hour and day. */
const RECENT_MS = 48 * 60 * 60 * 1000;

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
 * Compacts the whole rollup once, then the last 48 hours every `intervalMs`.
 * A failed pass (Postgres away) is logged and retried at the next tick: the
 * stats stay exact without compaction, only slower.
 */
export function startRollupCompaction(options: { sql: Sql; intervalMs: number; logger: Logger }): RollupCompaction {
  const { sql, intervalMs, logger } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  let first = true;

  const pass = async () => {
    const since = first ? undefined : new Date(Date.now() - RECENT_MS);
    try {
      const removed = await compactRollup(sql, since);
      first = false;
      logger.debug({ removed, since: since?.toISOString() ?? "all" }, "rollup compacted");
    } catch (error) {
      logger.warn({ error: (error as Error).message }, "rollup compaction failed; retrying at the next interval");
    }
  };
  const tick = () => {
    if (stopped || running) return;
    running = pass().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(timer);
        await running;
      })();
      return stopping;
    },
  };
}
