// Ready-made /healthz checks over the clients the worker already holds; each
// resolves when its service answers and throws (or hangs, the server times it out) otherwise.
import type { HealthCheck } from "./health-server.js";

/** Redis answers PING. Pass an ioredis client (or anything with `ping()`). */
export function redisCheck(redis: { ping(): Promise<unknown> }): HealthCheck {
  return async () => {
    await redis.ping();
  };
}

/** Postgres answers `select 1`. Pass a postgres.js `sql` (or anything with `unsafe(query)`). */
export function postgresCheck(sql: { unsafe(query: string): PromiseLike<unknown> }): HealthCheck {
  return async () => {
    await sql.unsafe("select 1");
  };
}

/** The worker is taking jobs, e.g. `runningCheck(() => handle.running)` or `() => bullWorker.isRunning()`. */
export function runningCheck(isRunning: () => boolean, what = "worker"): HealthCheck {
  return () => {
    if (!isRunning()) throw new Error(`${what} is not running`);
  };
}
