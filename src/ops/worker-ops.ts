// Everything operators see of a running worker, in one owner: the metrics, the
// /healthz + /metrics server, and the small Redis and Postgres clients its checks use.
import { Queue } from "bullmq";
import { readBudgetStatus } from "../budgets/budget-status.js";
import { spendKeyBase } from "../budgets/spend-keys.js";
import type { Budget } from "../config/settings.js";
import { createConnection } from "../db/connection.js";
import { createRedisClient } from "../redis/redis-client.js";
import { postgresCheck, redisCheck, runningCheck } from "./health-checks.js";
import { startHealthServer, type HealthServer } from "./health-server.js";
import { withTimeout } from "../with-timeout.js";
import { createWorkerMetrics, type WorkerObserver } from "./worker-metrics.js";
import { quietClosedConnections } from "../redis/quiet-closed-connections.js";

export interface WorkerOpsOptions {
  redisUrl: string;
  /** `redisUrl` names a node of a Redis Cluster. Default false. */
  redisCluster?: boolean;
  databaseUrl: string;
  queueName: string;
  /** BullMQ key prefix the queue gauges read under. Default `bull`. */
  queuePrefix?: string;
  spoolDir: string;
  /** `LLM_TRACKER_HTTP_PORT`: 0 means no HTTP server (metrics are still counted). */
  httpPort: number;
  /** Listen here instead of `httpPort`, 0 for a free port (tests). Default: `httpPort`. */
  listenPort?: number;
  /** Interface to bind. Default: every interface. */
  host?: string;
  /** Budgets whose spend /metrics shows (LLM_TRACKER_BUDGETS). Default: none. */
  budgets?: readonly Budget[];
  /** Longest wait for one health check or the queue counts, in ms. Default 2000. */
  checkTimeoutMs?: number;
}

export interface WorkerOps {
  /** Pass to `startUsageWorker({ observer })`. */
  observer: Required<WorkerObserver>;
  /** The server, or undefined when `httpPort` is 0. */
  server: HealthServer | undefined;
  /** Tells /healthz whether the worker runs; until called, the worker counts as not running (e.g. while migrating). */
  watch(worker: { readonly running: boolean }): void;
  /** Stops the server, then closes the check clients; idempotent, bounded in time even with Redis or Postgres away. */
  close(): Promise<void>;
}

export async function startWorkerOps(options: WorkerOpsOptions): Promise<WorkerOps> {
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
  // One retry per command: a check that waits longer is timed out and reported anyway.
  const redis = createRedisClient({ url: options.redisUrl, cluster: options.redisCluster ?? false }, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {}); // reported by /healthz; the worker logs its own connection errors
  const queue = quietClosedConnections(new Queue(options.queueName, { connection: redis, prefix: options.queuePrefix ?? "bull" }));
  queue.on("error", () => {});
  const database = createConnection(options.databaseUrl, { max: 1, connectTimeoutSeconds: 5, idleTimeoutSeconds: 60, applicationName: "llm-tracker-health" });
  const budgets = options.budgets ?? [];
  const keyBase = spendKeyBase(options.queuePrefix ?? "bull", options.queueName);
  const metrics = createWorkerMetrics({
    queue,
    spoolDir: options.spoolDir,
    queueTimeoutMs: checkTimeoutMs,
    ...(budgets.length > 0
      ? {
          budgets: async () => ({
            statuses: await readBudgetStatus(redis, keyBase, budgets),
            counters: await redis.hgetall(`${keyBase}:counters`),
          }),
        }
      : {}),
  });

  let worker: { readonly running: boolean } | undefined;
  const port = options.listenPort ?? options.httpPort;
  const server =
    options.listenPort === undefined && options.httpPort === 0
      ? undefined
      : await startHealthServer({
          port,
          host: options.host,
          registry: metrics.registry,
          checkTimeoutMs,
          checks: { redis: redisCheck(redis), postgres: postgresCheck(database.sql), worker: runningCheck(() => worker?.running === true) },
        }).catch(async (error: unknown) => {
          await closeClients();
          throw error;
        });

  async function closeClients(): Promise<void> {
    await withTimeout(queue.close(), 1_000).catch(() => {});
    redis.disconnect();
    await withTimeout(database.close(), 2_000).catch(() => {});
  }

  let closing: Promise<void> | undefined;
  return {
    observer: metrics.observer,
    server,
    watch(handle) {
      worker = handle;
    },
    close() {
      closing ??= (async () => {
        await server?.close();
        await closeClients();
      })();
      return closing;
    },
  };
}
