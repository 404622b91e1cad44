// What the worker reports as it goes, for metrics (src/ops/worker-metrics.ts
// implements a structurally compatible observer without importing the worker),
// and the guard that keeps a failing hook from failing the worker.
import type { Logger } from "../src/logger.js";

/** Hooks the worker calls synchronously; keep them cheap. One that throws is logged and otherwise ignored. */
export interface WorkerObserver {
  batchWritten?(info: { events: number; inserted: number; durationMs: number }): void;
  retry?(info: { attempt: number; delayMs: number; error: string }): void;
  poison?(info: { eventId: string | null; jobId: string | undefined; reason: string }): void;
  /** A job's events were committed and `events` of them had no price (cost null). */
  unpriced?(info: { events: number }): void;
  /** Partition upkeep created a daily partition of the usage table (`movedRows` came from the default partition). */
  partitionCreated?(info: { partition: string; day: string; movedRows: number }): void;
  /** Retention dropped a daily partition (LLM_TRACKER_RETENTION_DAYS). */
  partitionDropped?(info: { partition: string; day: string }): void;
  /** A partition upkeep pass failed; it is retried at the next pass. */
  partitionUpkeepFailed?(info: { error: string }): void;
}

/**
 * The observer with every hook wrapped: a hook is the embedding application's
 * code, and its exception must neither leave a batch's jobs unanswered nor
 * become an unhandled rejection. Each distinct failure is logged once.
 */
export function guardObserver(observer: WorkerObserver | undefined, logger: Logger): WorkerObserver | undefined {
  if (!observer) return undefined;
  const reported = new Set<string>();
  const guarded: WorkerObserver = {};
  for (const hook of ["batchWritten", "retry", "poison", "unpriced", "partitionCreated", "partitionDropped", "partitionUpkeepFailed"] as const) {
    const call = observer[hook] as ((info: unknown) => void) | undefined;
    if (!call) continue;
    (guarded as Record<string, (info: unknown) => void>)[hook] = (info) => {
      try {
        call.call(observer, info);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (reported.has(`${hook}\n${message}`)) return;
        reported.add(`${hook}\n${message}`);
        logger.warn({ hook, error: message.slice(0, 200) }, "worker observer hook failed");
      }
    };
  }
  return guarded;
}
