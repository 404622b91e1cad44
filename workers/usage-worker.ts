// The usage worker: consumes the usage queue and writes its events into
// llm_tracker_usage in batches, acknowledging each job only after its rows are committed.
//
// Open-source BullMQ has no batch consumer. We run one Worker with a high
// concurrency whose processor hands its job's events to a shared BatchWriter and
// awaits that batch's commit. BullMQ keeps doing what it is good at — locks,
// lock renewal, stalled-job redelivery, failed-job bookkeeping — and a job is
// completed only when its processor returns, i.e. after COMMIT. Manual fetching
// (getNextJob + moveToCompleted) would have meant re-implementing lock renewal
// and the stalled checker for the same result.
import { getHeapStatistics } from "node:v8";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { BudgetAlerts } from "../src/budgets/budget-alerts.js";
import { SpendLedger } from "../src/budgets/spend-ledger.js";
import { spendKeyBase } from "../src/budgets/spend-keys.js";
import { getTrackerSettings, type Budget } from "../src/config/settings.js";
import { getPriceBook, type PriceBook } from "../src/cost/price-book.js";
import { priceRow } from "../src/cost/price-row.js";
import { createConnection } from "../src/db/connection.js";
import type { UsageRow } from "./insert-usage-rows.js";
import { runMigrations } from "../src/db/migrate.js";
import { startRollupCompaction } from "../src/db/rollup-compaction.js";
import { createLogger, redactUrl, type Logger } from "../src/logger.js";
import { createRedisClient } from "../src/redis/redis-client.js";
import { unreachableMessage, unreachableReason } from "../src/unreachable-service.js";
import { USAGE_JOB_NAME } from "../src/usage/queue-contract.js";
import { BatchWriter, type RejectedEvent } from "./batch-writer.js";
import { prepareEvent } from "./prepare-event.js";
import { guardObserver, type WorkerObserver } from "./worker-observer.js";
import { classifyWriteError, describeWriteError } from "./write-error-kind.js";
import { quietClosedConnections } from "../src/redis/quiet-closed-connections.js";

export interface UsageWorkerOptions {
  /** Default: REDIS_URL. */
  redisUrl: string;
  /** `redisUrl` names a node of a Redis Cluster. Default: LLM_TRACKER_REDIS_CLUSTER (false). */
  redisCluster: boolean;
  /** Default: DATABASE_URL. */
  databaseUrl: string;
  /** Default: LLM_TRACKER_QUEUE. */
  queueName: string;
  /** BullMQ key prefix. Default: LLM_TRACKER_QUEUE_PREFIX (`bull`). */
  queuePrefix: string;
  /** Most events per INSERT. Default: LLM_TRACKER_BATCH_SIZE (2000). */
  batchSize: number;
  /** Longest wait before a partial batch is written, in ms. Default: LLM_TRACKER_FLUSH_MS (50). */
  flushMs: number;
  /**
   * Jobs processed at once; they are what fills a batch, so it should be at least
   * batchSize / events-per-job. Default: 2 × batchSize / LLM_TRACKER_JOB_SIZE
   * (so the next batch fills while one is being written), at least 100 (jobs
   * often carry fewer events than LLM_TRACKER_JOB_SIZE), at most 1000.
   */
  concurrency?: number;
  /** Apply the shipped migrations before consuming. Default true. */
  migrate?: boolean;
  /** Default: a pino logger at LLM_TRACKER_LOG_LEVEL. */
  logger?: Logger;
  /**
   * Prices each row's cost_usd and price_version. Default: the configured price
   * book (LLM_TRACKER_PRICES, LLM_TRACKER_PRICE_OVERRIDES,
   * LLM_TRACKER_AZURE_DEPLOYMENTS), read once at start; restart to pick up an edited file.
   */
  priceBook?: PriceBook;
  /** How often the rollup's appended partial sums are merged, in ms; 0 turns it off. Default: LLM_TRACKER_ROLLUP_COMPACT_MS (10000). */
  rollupCompactMs?: number;
  /**
   * The budgets whose spend the worker keeps in Redis (use the app's LLM_TRACKER_BUDGETS).
   * Default: LLM_TRACKER_BUDGETS; none → no spend is kept and the INSERT returns nothing.
   */
  budgets?: readonly Budget[];
  /** How often the budgets' current periods are checked for a missing spend hash (a flush, a new period), in ms. Default 5000. */
  budgetCheckMs?: number;
  /** Hooks for metrics; called synchronously, keep them cheap. A hook that throws is logged ("worker observer hook failed") and ignored. */
  observer?: WorkerObserver;
  /**
   * How long a job's lock lives without renewal, in ms: after a crash, its jobs are
   * redelivered about this long later. Default 30000.
   */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for, in ms. Default: lockDurationMs. */
  stalledIntervalMs?: number;
  /**
   * Times a job may be redelivered after its worker died before it is failed
   * (a job that crashes every worker should not crash them forever). Default 10.
   */
  maxStalledCount?: number;
  /** close() gives up waiting for in-flight batches after this long, in ms, then forces connections shut. Default 10000. */
  shutdownTimeoutMs?: number;
  /** First and longest delay between retries of a batch while Postgres is away, in ms. Defaults 100 and 5000. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * Aborting it while the worker starts (e.g. waiting for Postgres to accept
   * migrations) makes startUsageWorker reject with a WorkerStartAborted before
   * it takes any job. After the start, use the handle's close().
   */
  signal?: AbortSignal;
}

/** startUsageWorker was asked to stop (its `signal` aborted) before it took any job. */
export class WorkerStartAborted extends Error {
  constructor() {
    super("llm-tracker worker: stopped while starting, before taking any job");
    this.name = "WorkerStartAborted";
  }
}

export interface UsageWorkerHandle {
  /** Stops taking jobs, writes what it holds, closes connections. Idempotent; bounded by shutdownTimeoutMs (+ ~3 s to force). */
  close(): Promise<void>;
  readonly running: boolean;
}

/** Longest failedReason we store; the rest of the ids are counted. */
const MAX_FAILED_REASON = 4_000;

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms).unref();
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

function describePoison(rejected: RejectedEvent[], total: number): string {
  let text = `${rejected.length} of ${total} events refused (the others are committed):`;
  for (let i = 0; i < rejected.length; i += 1) {
    const { eventId, reason } = rejected[i]!;
    const part = ` [${eventId ?? "no id"}] ${reason};`;
    if (text.length + part.length > MAX_FAILED_REASON) return `${text} … and ${rejected.length - i} more`;
    text += part;
  }
  return text;
}

/** Tries before migrations give up: about five minutes of waiting for Postgres. */
const MIGRATION_ATTEMPTS = 60;

/**
 * Migrations at start wait for a Postgres that is still starting; a wrong URL or
 * password fails at once. An unreachable Postgres is said once in plain words
 * (what is missing, what to start) at `warn`; the retries after it at `debug`.
 */
async function migrateWhenReachable(databaseUrl: string, logger: Logger, signal: AbortSignal | undefined): Promise<void> {
  let said = "";
  for (let attempt = 1; ; attempt += 1) {
    if (signal?.aborted) throw new WorkerStartAborted();
    try {
      return await runMigrations(databaseUrl);
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      if (classifyWriteError(cause) !== "transient") throw error;
      const reason = unreachableReason(cause);
      const plain = reason ? unreachableMessage([{ service: "Postgres", url: databaseUrl, reason }]) : undefined;
      if (attempt >= MIGRATION_ATTEMPTS) throw plain ? new Error(`${plain}; gave up after ${attempt} attempts`, { cause: error }) : error;
      const delayMs = Math.min(5_000, 200 * 2 ** (attempt - 1));
      const fields = { attempt, delayMs, error: describeWriteError(cause) };
      const message = plain ? `${plain}; retrying until it answers` : "Postgres not reachable for migrations; retrying";
      if (message === said) logger.debug(fields, message);
      else logger.warn(fields, message);
      said = message;
      await delay(delayMs, signal);
    }
  }
}

/** Starts consuming; resolves once migrations are applied and the BullMQ worker is running. */
export async function startUsageWorker(options: Partial<UsageWorkerOptions> = {}): Promise<UsageWorkerHandle> {
  const needsSettings = [
    options.redisUrl, options.redisCluster, options.databaseUrl, options.queueName, options.queuePrefix, options.batchSize, options.flushMs, options.concurrency, options.logger, options.rollupCompactMs,
    options.budgets,
  ].some((v) => v === undefined);
  const settings = needsSettings ? getTrackerSettings() : undefined;
  const redisUrl = options.redisUrl ?? settings!.redisUrl;
  const databaseUrl = options.databaseUrl ?? settings!.databaseUrl;
  const redisCluster = options.redisCluster ?? settings!.redisCluster;
  const queueName = options.queueName ?? settings!.queueName;
  const queuePrefix = options.queuePrefix ?? settings!.queuePrefix;
  const batchSize = options.batchSize ?? settings!.batchSize;
  const flushMs = options.flushMs ?? settings!.flushMs;
  const concurrency = options.concurrency ?? Math.min(1_000, Math.max(100, 2 * Math.ceil(batchSize / settings!.jobSize)));
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const rollupCompactMs = options.rollupCompactMs ?? settings!.rollupCompactMs;
  const budgets = options.budgets ?? settings!.budgets;
  const logger = options.logger ?? createLogger(settings!.logLevel, "llm-tracker-worker");
  const observer = guardObserver(options.observer, logger);
  // Read before anything connects: a bad price file stops the worker at start, naming the setting.
  const priceBook = options.priceBook ?? getPriceBook();

  logger.info({ queue: queueName, prefix: queuePrefix, redis: redactUrl(redisUrl), redisCluster, database: redactUrl(databaseUrl), batchSize, flushMs, concurrency }, "usage worker starting");
  // Which heap bound holds (a flag, NODE_OPTIONS, or the CLI's capped thread): the memory figures depend on it.
  logger.debug({ heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) }, "V8 heap limit");
  if (options.migrate ?? true) await migrateWhenReachable(databaseUrl, logger, options.signal);
  if (options.signal?.aborted) throw new WorkerStartAborted();

  // One connection for the batch writer, one for the rollup compaction.
  const database = createConnection(databaseUrl, { max: 2, applicationName: "llm-tracker-worker" });
  const { sql } = database;
  const compaction = rollupCompactMs > 0 ? startRollupCompaction({ sql, intervalMs: rollupCompactMs, logger }) : undefined;

  // Budgets: the spend of the rows this worker inserts, kept in Redis beside the queue. A client
  // of its own that fails a command after one retry: a lost increment is rebuilt, never waited on.
  const budgetRedis = budgets.length > 0 ? createRedisClient({ url: redisUrl, cluster: redisCluster }, { maxRetriesPerRequest: 1, commandTimeoutMs: 5_000 }) : undefined;
  budgetRedis?.on("error", () => {}); // failures are logged where a command fails
  const keyBase = spendKeyBase(queuePrefix, queueName);
  const alerts = budgetRedis ? new BudgetAlerts(budgets, budgetRedis, keyBase, logger) : undefined;
  const ledger = budgetRedis
    ? new SpendLedger({ budgets, redis: budgetRedis, sql, keyBase, logger, checkIntervalMs: options.budgetCheckMs, onChange: () => alerts?.changed() })
    : undefined;
  const writer = new BatchWriter({
    sql,
    batchSize,
    flushMs,
    maxJobs: concurrency,
    logger,
    observer,
    retryInitialMs: options.retryInitialMs,
    retryMaxMs: options.retryMaxMs,
    ...(ledger ? { committed: (insert) => ledger.add(insert), uncertain: () => ledger.rebuildSoon() } : {}),
  });
  // Exact spend before the first job: rebuilt from Postgres (failures are retried in the background).
  await ledger?.start();

  // Our own connection (BullMQ duplicates it for its blocking reads), so a
  // forced shutdown can cut it even while BullMQ waits on a Redis that is gone.
  const redis = createRedisClient({ url: redisUrl, cluster: redisCluster }, { maxRetriesPerRequest: null });
  redis.on("error", () => {}); // reported through the worker's "error" event below

  async function processJob(job: Job): Promise<void> {
    const raw = (job.data as { events?: unknown } | null)?.events;
    if (job.name !== USAGE_JOB_NAME || !Array.isArray(raw)) {
      const reason = job.name !== USAGE_JOB_NAME ? `unknown job name "${String(job.name).slice(0, 50)}"` : "job data has no events array";
      observer?.poison?.({ eventId: null, jobId: job.id, reason });
      logger.warn({ jobId: job.id, reason }, "poison job");
      throw new UnrecoverableError(reason);
    }
    const accepted: UsageRow[] = [];
    let unpriced = 0;
    const refused: RejectedEvent[] = [];
    for (const candidate of raw) {
      const prepared = prepareEvent(candidate);
      if (prepared.ok) {
        const price = priceRow(priceBook, prepared.event, logger);
        if (price.cost_usd === null) unpriced += 1;
        // prepareEvent hands over a fresh object of its own: priced in place, one allocation less per event.
        accepted.push(Object.assign(prepared.event, price));
      } else {
        refused.push({ eventId: prepared.eventId, reason: prepared.reason });
        observer?.poison?.({ eventId: prepared.eventId, jobId: job.id, reason: prepared.reason });
        logger.warn({ eventId: prepared.eventId, jobId: job.id, reason: prepared.reason }, "poison event isolated");
      }
    }
    logger.debug({ jobId: job.id, events: accepted.length }, "job joined a batch");
    if (accepted.length > 0) refused.push(...(await writer.write(accepted, job.id)).rejected);
    if (unpriced > 0) observer?.unpriced?.({ events: unpriced });
    // Failed, not retried: its good events are committed, and replaying it later is harmless (ON CONFLICT DO NOTHING).
    if (refused.length > 0) throw new UnrecoverableError(describePoison(refused, raw.length));
  }

  const worker = quietClosedConnections(new Worker(queueName, processJob, {
    connection: redis,
    prefix: queuePrefix,
    concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? lockDurationMs,
    maxStalledCount: options.maxStalledCount ?? 10,
  }));
  let lastRedisError = "";
  worker.on("error", (error) => {
    // A Redis outage repeats the same error many times a second; log each kind once until it changes.
    const text = describeWriteError(error);
    const reason = unreachableReason(error);
    const message = reason ? `${unreachableMessage([{ service: "Redis", url: redisUrl, reason }])}; retrying until it answers` : "queue connection error";
    if (text !== lastRedisError) logger.warn({ error: text }, message);
    lastRedisError = text;
  });
  worker.on("ready", () => {
    lastRedisError = "";
  });
  logger.info({ queue: queueName }, "usage worker consuming");

  let running = true;
  let closing: Promise<void> | undefined;

  async function shutdown(): Promise<void> {
    running = false;
    logger.info({ held: writer.heldEvents }, "usage worker stopping: writing what it holds");
    const graceful = (async () => {
      const drained = writer.drain();
      await worker.close(); // stops fetching, waits for active jobs — which wait for their batch
      await drained;
      await redis.quit();
    })().then(
      () => true,
      (error: unknown) => {
        logger.warn({ error: describeWriteError(error) }, "error while stopping the usage worker");
        return true;
      },
    );
    const inTime = await Promise.race([graceful, delay(shutdownTimeoutMs).then(() => false)]);
    if (!inTime) {
      logger.warn({ held: writer.heldEvents, timeoutMs: shutdownTimeoutMs }, "shutdown deadline passed: closing connections; unacknowledged jobs will be redelivered");
      redis.disconnect();
      // BullMQ's own blocking connection is not reachable through its types; cut it too.
      void (worker as unknown as { blockingConnection?: { disconnect(wait: boolean): Promise<void> } }).blockingConnection
        ?.disconnect(false)
        .catch(() => {});
      writer.abort(); // its jobs stay unacknowledged: redelivered once their locks lapse
      await Promise.race([worker.close(), delay(1_000)]);
    }
    await Promise.race([Promise.all([ledger?.stop(), alerts?.stop()]), delay(2_000)]);
    budgetRedis?.disconnect();
    await Promise.race([compaction?.stop(), delay(2_000)]);
    await Promise.race([database.close(), delay(2_000)]);
    logger.info("usage worker stopped");
  }

  return {
    close: () => (closing ??= shutdown()),
    get running() {
      return running;
    },
  };
}

export type { WorkerObserver } from "./worker-observer.js";
