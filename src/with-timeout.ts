// Bounds a promise in time: health checks, scrapes and the producer's sends must
// answer even when a service hangs.

/**
 * Rejects with `<what> timed out after <ms> ms` when `work` has not settled by
 * then (the work itself is not cancelled). `what` defaults to nothing.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what?: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what ? `${what} ` : ""}timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
