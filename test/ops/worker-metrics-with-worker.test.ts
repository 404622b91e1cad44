// The metrics wired to the real usage worker: what /metrics reports is what reached Postgres.
import { Queue } from "bullmq";
import postgres from "postgres";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerMetrics, type WorkerMetrics } from "../../src/ops/worker-metrics.js";
import { startHealthServer, type HealthServer } from "../../src/ops/health-server.js";
import { usageJob } from "../../src/usage/usage-jobs.js";
import type { UsageJobData } from "../../src/usage/queue-contract.js";
import { startUsageWorker, type UsageWorkerHandle, type WorkerObserver } from "../../workers/usage-worker.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { parseExposition, sampleValue } from "./support/prometheus-text.js";
import { makeEvent, usageEvents } from "../support/usage-events.js";

// Compile-time proof that our observer fits the worker's option (checked by tsc).
const fits: (metrics: WorkerMetrics) => WorkerObserver = (metrics) => metrics.observer;

const queueName = testQueueName();
let database: TestDatabase;
let sql: postgres.Sql;
let queue: Queue<UsageJobData>;
let metrics: WorkerMetrics;
let worker: UsageWorkerHandle;
let server: HealthServer;

async function scrape() {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** Polls `condition` until it holds; fails with the last value after `timeoutMs`. */
async function waitFor<T>(read: () => Promise<T>, condition: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
  queue = new Queue<UsageJobData>(queueName, { connection: { url: TEST_REDIS_URL } });
  metrics = createWorkerMetrics({ queue, defaultMetrics: false });
  worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL,
    databaseUrl: database.url,
    queueName,
    batchSize: 500,
    flushMs: 20,
    concurrency: 8,
    observer: fits(metrics),
    logger: pino({ level: "silent" }),
  });
  server = await startHealthServer({ port: 0, host: "127.0.0.1", checks: {}, registry: metrics.registry });
});

afterAll(async () => {
  await server?.close();
  await worker?.close();
  await queue?.close();
  await sql?.end();
  await database?.drop();
  await obliterateQueue(queueName);
});

describe("worker metrics on a running usage worker", () => {
  it("counts exactly the events that became rows, in batches whose sizes add up", async () => {
    const jobs = Array.from({ length: 12 }, () => usageJob(usageEvents(100)));
    await queue.addBulk(jobs);
    await waitFor(async () => (await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage`)[0]!.n, (n) => n === 1_200);

    const scraped = await waitFor(scrape, (s) => sampleValue(s, "llm_tracker_events_written_total") === 1_200);
    const batches = sampleValue(scraped, "llm_tracker_batches_total");
    expect(batches).toBeGreaterThanOrEqual(3); // at most 500 events per INSERT
    expect(sampleValue(scraped, "llm_tracker_batch_size_count")).toBe(batches);
    expect(sampleValue(scraped, "llm_tracker_batch_size_sum")).toBe(1_200);
    expect(sampleValue(scraped, "llm_tracker_insert_duration_seconds_count")).toBe(batches);
    expect(sampleValue(scraped, "llm_tracker_duplicate_events_total")).toBe(0);
    expect(sampleValue(scraped, "llm_tracker_poison_events_total")).toBe(0);
    const drained = await waitFor(scrape, (s) => sampleValue(s, "llm_tracker_queue_jobs", { state: "active" }) === 0);
    expect(sampleValue(drained, "llm_tracker_queue_jobs", { state: "waiting" })).toBe(0);
  });

  it("counts an invalid event as poison, a failed job in the queue gauge, and writes its valid neighbours", async () => {
    const before = await scrape();
    const job = usageJob([makeEvent(), makeEvent()]);
    // As if a buggy producer sent it: negative tokens fail the event contract.
    (job.data.events[1] as { prompt_tokens: number }).prompt_tokens = -1;
    await queue.addBulk([job]);

    const after = await waitFor(scrape, (s) => sampleValue(s, "llm_tracker_queue_jobs", { state: "failed" }) === 1);
    expect(sampleValue(after, "llm_tracker_poison_events_total") - sampleValue(before, "llm_tracker_poison_events_total")).toBe(1);
    expect(sampleValue(after, "llm_tracker_events_written_total") - sampleValue(before, "llm_tracker_events_written_total")).toBe(1);
  });
});
