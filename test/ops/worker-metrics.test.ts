import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHealthServer, type HealthServer } from "../../src/ops/health-server.js";
import { createWorkerMetrics, type WorkerMetrics } from "../../src/ops/worker-metrics.js";
import { USAGE_JOB_NAME, type UsageJobData } from "../../src/usage/queue-contract.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { freePort } from "../support/free-port.js";
import { parseExposition, sampleValue, type Exposition } from "./support/prometheus-text.js";
import { usageEvents } from "../support/usage-events.js";

const queueName = testQueueName();
const connection = { url: TEST_REDIS_URL };
let queue: Queue<UsageJobData>;
let spoolDir: string;
let metrics: WorkerMetrics;
let server: HealthServer;

async function scrape(target: HealthServer = server): Promise<Exposition> {
  const response = await fetch(`${target.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

beforeAll(async () => {
  queue = new Queue<UsageJobData>(queueName, { connection });
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-spool-"));
  metrics = createWorkerMetrics({ queue, spoolDir });
  server = await startHealthServer({ port: 0, host: "127.0.0.1", checks: {}, registry: metrics.registry });
});

afterAll(async () => {
  await server?.close();
  await queue?.close();
  await obliterateQueue(queueName);
  await rm(spoolDir, { recursive: true, force: true });
});

describe("worker metrics at /metrics", () => {
  it("exposes every llm_tracker metric with its Prometheus type, plus the process defaults", async () => {
    const { types } = await scrape();
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith("llm_tracker_")))).toEqual({
      llm_tracker_events_written_total: "counter",
      llm_tracker_duplicate_events_total: "counter",
      llm_tracker_batches_total: "counter",
      llm_tracker_batch_size: "histogram",
      llm_tracker_insert_duration_seconds: "histogram",
      llm_tracker_poison_events_total: "counter",
      llm_tracker_insert_retries_total: "counter",
      llm_tracker_unpriced_events_total: "counter",
      llm_tracker_partitions_created_total: "counter",
      llm_tracker_partitions_dropped_total: "counter",
      llm_tracker_partition_upkeep_failures_total: "counter",
      llm_tracker_queue_up: "gauge",
      llm_tracker_queue_jobs: "gauge",
      llm_tracker_spool_bytes: "gauge",
    });
    expect(types.get("process_cpu_user_seconds_total")).toBe("counter");
    expect(types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
  });

  it("moves the write counters and histograms as the observer reports batches, retries and poison events", async () => {
    const before = await scrape();
    metrics.observer.batchWritten({ events: 100, inserted: 100, durationMs: 12 });
    metrics.observer.batchWritten({ events: usageEvents(3), inserted: 2, durationMs: 3_000 });
    metrics.observer.retry({ attempt: 1, delayMs: 500, error: new Error("connection refused") });
    metrics.observer.poison({ eventId: "not-a-uuid", jobId: "7", reason: "invalid event" });
    metrics.observer.poison({ eventId: undefined, jobId: "8", reason: "invalid job" });
    metrics.observer.unpriced({ events: 3 });
    metrics.observer.partitionCreated({ partition: "llm_tracker_usage_p20261202", day: "2026-12-02", movedRows: 0 });
    metrics.observer.partitionCreated({ partition: "llm_tracker_usage_p20261203", day: "2026-12-03", movedRows: 4 });
    metrics.observer.partitionDropped({ partition: "llm_tracker_usage_p20261001", day: "2026-10-01" });
    metrics.observer.partitionUpkeepFailed({ error: "55P03: canceling statement due to lock timeout" });
    const after = await scrape();

    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(moved("llm_tracker_events_written_total")).toBe(102);
    expect(moved("llm_tracker_duplicate_events_total")).toBe(1);
    expect(moved("llm_tracker_batches_total")).toBe(2);
    expect(moved("llm_tracker_batch_size_count")).toBe(2);
    expect(moved("llm_tracker_batch_size_sum")).toBe(103);
    expect(moved("llm_tracker_batch_size_bucket", { le: "10" })).toBe(1);
    expect(moved("llm_tracker_batch_size_bucket", { le: "100" })).toBe(2);
    expect(moved("llm_tracker_insert_duration_seconds_count")).toBe(2);
    expect(moved("llm_tracker_insert_duration_seconds_sum")).toBeCloseTo(3.012, 6);
    expect(moved("llm_tracker_insert_duration_seconds_bucket", { le: "0.025" })).toBe(1);
    expect(moved("llm_tracker_insert_duration_seconds_bucket", { le: "2.5" })).toBe(1);
    expect(moved("llm_tracker_insert_duration_seconds_bucket", { le: "5" })).toBe(2);
    expect(moved("llm_tracker_insert_retries_total")).toBe(1);
    expect(moved("llm_tracker_poison_events_total")).toBe(2);
    expect(moved("llm_tracker_unpriced_events_total")).toBe(3);
    expect(moved("llm_tracker_partitions_created_total")).toBe(2);
    expect(moved("llm_tracker_partitions_dropped_total")).toBe(1);
    expect(moved("llm_tracker_partition_upkeep_failures_total")).toBe(1);
  });

  it("reads the queue gauges from the real queue at scrape time, one per state", async () => {
    // 5 jobs of 100 events in the producer's format, plus one held back by a delay.
    await queue.addBulk(Array.from({ length: 5 }, () => ({ name: USAGE_JOB_NAME, data: { events: usageEvents(100) } })));
    await queue.add(USAGE_JOB_NAME, { events: usageEvents(1) }, { delay: 3_600_000 });
    // Take two jobs by hand (BullMQ manual processing): both active, then fail one.
    const taker = new Worker<UsageJobData>(queueName, undefined, { connection });
    try {
      const first = await taker.getNextJob("ops-test");
      const second = await taker.getNextJob("ops-test");
      expect(first && second).toBeTruthy();
      await second!.moveToFailed(new Error("simulated failure"), "ops-test", false);

      const scraped = await scrape();
      expect(sampleValue(scraped, "llm_tracker_queue_up")).toBe(1);
      expect(sampleValue(scraped, "llm_tracker_queue_jobs", { state: "waiting" })).toBe(3);
      expect(sampleValue(scraped, "llm_tracker_queue_jobs", { state: "active" })).toBe(1);
      expect(sampleValue(scraped, "llm_tracker_queue_jobs", { state: "failed" })).toBe(1);
      expect(sampleValue(scraped, "llm_tracker_queue_jobs", { state: "delayed" })).toBe(1);
    } finally {
      await taker.close(true);
    }
  });

  it("reports the queue as read on the very first scrape (both queue gauges share one read)", async () => {
    const fresh = createWorkerMetrics({ queue, defaultMetrics: false });
    const exposition = parseExposition(await fresh.registry.metrics());
    expect(sampleValue(exposition, "llm_tracker_queue_up")).toBe(1);
    expect(exposition.samples.filter((s) => s.name === "llm_tracker_queue_jobs")).toHaveLength(4);
  });

  it("reports the spool directory's total file size, nested files included", async () => {
    await mkdir(join(spoolDir, "pending"), { recursive: true });
    await writeFile(join(spoolDir, "a.ndjson"), "x".repeat(1_000));
    await writeFile(join(spoolDir, "pending", "b.ndjson"), "y".repeat(234));
    expect(sampleValue(await scrape(), "llm_tracker_spool_bytes")).toBe(1_234);
  });

  it("reads a missing spool directory as 0 bytes", async () => {
    const missing = createWorkerMetrics({ spoolDir: join(spoolDir, "never-created"), defaultMetrics: false });
    const exposition = parseExposition(await missing.registry.metrics());
    expect(sampleValue(exposition, "llm_tracker_spool_bytes")).toBe(0);
  });

  it("still answers a scrape when Redis is unreachable: queue_up 0 and no stale queue numbers", async () => {
    const port = await freePort();
    const deadQueue = new Queue(testQueueName(), { connection: { host: "127.0.0.1", port } });
    deadQueue.on("error", () => {}); // connection refusals are the point of this test
    const offline = createWorkerMetrics({ queue: deadQueue, queueTimeoutMs: 200, defaultMetrics: false });
    const offlineServer = await startHealthServer({ port: 0, host: "127.0.0.1", checks: {}, registry: offline.registry });
    try {
      const scraped = await scrape(offlineServer);
      expect(sampleValue(scraped, "llm_tracker_queue_up")).toBe(0);
      expect(scraped.samples.filter((s) => s.name === "llm_tracker_queue_jobs")).toEqual([]);
    } finally {
      await offlineServer.close();
      await deadQueue.close();
    }
  });

  it("leaves the queue gauges empty when no queue is given", async () => {
    const exposition = parseExposition(await createWorkerMetrics({ defaultMetrics: false }).registry.metrics());
    expect(sampleValue(exposition, "llm_tracker_queue_up")).toBe(0);
    expect(exposition.samples.filter((s) => s.name === "llm_tracker_queue_jobs")).toEqual([]);
  });
});
