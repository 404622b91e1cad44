// A background job the worker runs now and then every interval (rollup compaction,
// partition upkeep): one pass at a time, never overlapping a slow one, stopped cleanly.

export interface PeriodicPass {
  /** Resolves when the first pass (started at once) has finished. */
  readonly firstPass: Promise<void>;
  /** Stops the timer and waits for a running pass; idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` now and every `intervalMs`. A tick that comes while a pass still runs is
 * skipped, not queued: a pass slower than its interval must not pile up behind itself.
 * `pass` handles its own errors (it logs and waits for the next tick); the timer does not
 * keep the process alive.
 */
export function startPeriodicPass(intervalMs: number, pass: () => Promise<void>): PeriodicPass {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = (): Promise<void> | undefined => {
    if (stopped || running) return running;
    running = pass().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  const firstPass = tick() ?? Promise.resolve();

  let stopping: Promise<void> | undefined;
  return {
    firstPass,
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
