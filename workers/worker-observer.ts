// What the worker reports as it goes, for metrics (src/ops/worker-metrics.ts
// implements a structurally compatible observer without importing the worker).

/** Hooks the worker calls synchronously; keep them cheap, they must not throw. */
export interface WorkerObserver {
  batchWritten?(info: { events: number; inserted: number; durationMs: number }): void;
  retry?(info: { attempt: number; delayMs: number; error: string }): void;
  poison?(info: { eventId: string | null; jobId: string | undefined; reason: string }): void;
  /** A job's events were committed and `events` of them had no price (cost null). */
  unpriced?(info: { events: number }): void;
}
