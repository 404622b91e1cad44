// Keeps the partitioned usage table's daily partitions: created ahead, rows of
// days without one moved out of the default partition, and — with a retention
// set — whole expired days dropped. The work itself is SQL (drizzle/0007,
// under an advisory lock, so several workers may run it at once); this module
// decides when it runs and reports what it did.
import type { Sql } from "postgres";
import type { Logger } from "../logger.js";
import { startPeriodicPass } from "./periodic-pass.js";

/** Days ahead of today (UTC) whose partitions exist after each pass. */
export const PARTITION_DAYS_AHEAD = 7;
/** How often the worker runs a pass after the one at start. */
export const PARTITION_UPKEEP_MS = 60 * 60 * 1000;

export interface CreatedPartition {
  /** e.g. `llm_tracker_usage_p20261202`. */
  partition: string;
  /** Its UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Rows moved into it from the default partition (late or early rows written before it existed). */
  movedRows: number;
}

export interface DroppedPartition {
  partition: string;
  /** Its UTC day, `YYYY-MM-DD`. */
  day: string;
}

export interface PartitionUpkeepResult {
  created: CreatedPartition[];
  dropped: DroppedPartition[];
}

export interface PartitionUpkeepOptions {
  /** Partitions ahead of today (UTC). Default 7. */
  daysAhead?: number;
  /** Drop the partitions of days that ended this many days ago or earlier; undefined keeps every row. */
  retentionDays?: number | undefined;
}

/**
 * One pass: creates the partitions of every earlier day with rows in the
 * default partition (one transaction per day) and of today through `daysAhead`
 * days ahead, then (with
 * `retentionDays`) drops each partition whose day ended `retentionDays` × 24 h
 * ago or earlier. Each statement is its own transaction under the upkeep
 * advisory lock; a table lock not granted within 10 s fails the statement
 * (55P03), to be retried at the next pass.
 */
export async function runPartitionUpkeep(sql: Sql, options: PartitionUpkeepOptions = {}): Promise<PartitionUpkeepResult> {
  const daysAhead = options.daysAhead ?? PARTITION_DAYS_AHEAD;
  type Created = { partition: string; day: string; moved_rows: string }[];
  // Past days waiting in the default partition first, one transaction each: moving a
  // day's rows locks the default partition until its commit, so writers routed there
  // wait for one day's move at a time, not for all of them.
  const waiting = await sql.begin(async (tx) => {
    await tx`SET LOCAL lock_timeout = '10s'`;
    return tx<{ day: string }[]>`
      SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM llm_tracker_usage_default
      WHERE created_at < date_trunc('day', now(), 'UTC') ORDER BY 1`;
  });
  const created: Created = [];
  for (const { day } of waiting) {
    created.push(...(await sql<Created>`
      SELECT partition, to_char(day, 'YYYY-MM-DD') AS day, moved_rows::text
      FROM llm_tracker_usage_create_partitions(${day}::date, ${day}::date)`));
  }
  created.push(...(await sql<Created>`
    SELECT partition, to_char(day, 'YYYY-MM-DD') AS day, moved_rows::text
    FROM llm_tracker_usage_create_partitions_ahead(${daysAhead}::int)`));
  const dropped =
    options.retentionDays === undefined
      ? []
      : await sql<{ partition: string; day: string }[]>`
          SELECT partition, to_char(day, 'YYYY-MM-DD') AS day
          FROM llm_tracker_usage_drop_expired_partitions(${options.retentionDays}::int)`;
  return {
    created: created.map((row) => ({ partition: row.partition, day: row.day, movedRows: Number(row.moved_rows) })),
    dropped: dropped.map((row) => ({ partition: row.partition, day: row.day })),
  };
}

/** What a pass reports, for metrics (the worker's observer). */
export interface PartitionUpkeepObserver {
  partitionCreated?(info: { partition: string; day: string; movedRows: number }): void;
  partitionDropped?(info: { partition: string; day: string }): void;
  partitionUpkeepFailed?(info: { error: string }): void;
}

export interface PartitionUpkeep {
  /** Stops the timer and waits for a running pass; idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs a pass now (the returned promise settles once it is done) and every
 * `intervalMs` after. A failed pass (Postgres away, a lock not granted) is
 * logged and retried at the next tick: partitions exist days ahead and rows
 * without one wait in the default partition, so nothing is lost meanwhile.
 */
export async function startPartitionUpkeep(options: {
  sql: Sql;
  intervalMs: number;
  logger: Logger;
  retentionDays?: number | undefined;
  daysAhead?: number;
  observer?: PartitionUpkeepObserver | undefined;
}): Promise<PartitionUpkeep> {
  const { sql, intervalMs, logger, retentionDays, daysAhead, observer } = options;
  const upkeep = startPeriodicPass(intervalMs, async () => {
    try {
      const { created, dropped } = await runPartitionUpkeep(sql, { retentionDays, daysAhead });
      for (const info of created) {
        observer?.partitionCreated?.(info);
        if (info.movedRows > 0) logger.info(info, "usage partition created; rows moved in from the default partition");
        else logger.debug(info, "usage partition created");
      }
      for (const info of dropped) {
        observer?.partitionDropped?.(info);
        logger.info({ ...info, retentionDays }, "usage partition dropped: its day is past LLM_TRACKER_RETENTION_DAYS (the rollup keeps its totals)");
      }
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error);
      const code = (error as { code?: unknown }).code;
      observer?.partitionUpkeepFailed?.({ error: message });
      logger.warn({ error: typeof code === "string" ? `${code}: ${message}` : message }, "usage partition upkeep failed; retrying at the next pass");
    }
  });
  // The partitions of today and the days ahead exist before the worker takes its first job.
  await upkeep.firstPass;
  return upkeep;
}
