import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthReport } from "../../src/ops/health-server.js";
import { startWorkerOps } from "../../src/ops/worker-ops.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { freePort } from "../support/free-port.js";
import { parseExposition, sampleValue } from "./support/prometheus-text.js";

const queueName = testQueueName();
let database: TestDatabase;

const settings = () => ({
  redisUrl: TEST_REDIS_URL,
  databaseUrl: database.url,
  queueName,
  spoolDir: "/nonexistent/llm-tracker-spool",
  httpPort: 9464,
  listenPort: 0,
  host: "127.0.0.1",
});

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
  await obliterateQueue(queueName);
});

describe("startWorkerOps", () => {
  it("reports the worker unhealthy until it is watched and running, then healthy, then unhealthy once it stops", async () => {
    const ops = await startWorkerOps(settings());
    try {
      const healthz = async () => {
        const response = await fetch(`${ops.server!.url}/healthz`);
        return { status: response.status, body: (await response.json()) as HealthReport };
      };
      const starting = await healthz();
      expect(starting.status).toBe(503);
      expect(starting.body.checks.worker?.ok).toBe(false);
      expect(starting.body.checks.redis?.ok).toBe(true);
      expect(starting.body.checks.postgres?.ok).toBe(true);

      const handle = { running: true };
      ops.watch(handle);
      expect((await healthz()).status).toBe(200);
      handle.running = false;
      expect((await healthz()).status).toBe(503);
    } finally {
      await ops.close();
    }
  });

  it("serves metrics with the queue read through its own Redis client", async () => {
    const ops = await startWorkerOps(settings());
    try {
      ops.observer.batchWritten({ events: 10, inserted: 10, durationMs: 5 });
      const scraped = parseExposition(await (await fetch(`${ops.server!.url}/metrics`)).text());
      expect(sampleValue(scraped, "llm_tracker_events_written_total")).toBe(10);
      expect(sampleValue(scraped, "llm_tracker_queue_up")).toBe(1);
      expect(sampleValue(scraped, "llm_tracker_queue_jobs", { state: "waiting" })).toBe(0);
      expect(sampleValue(scraped, "llm_tracker_spool_bytes")).toBe(0);
    } finally {
      await ops.close();
    }
  });

  it("starts no server when LLM_TRACKER_HTTP_PORT is 0, and still counts", async () => {
    const ops = await startWorkerOps({ ...settings(), httpPort: 0, listenPort: undefined });
    try {
      expect(ops.server).toBeUndefined();
      expect(() => ops.observer.retry({ attempt: 1, delayMs: 100, error: "x" })).not.toThrow();
    } finally {
      await ops.close();
    }
  });

  it("answers 503 and still closes when Redis and Postgres are unreachable", async () => {
    const deadRedis = await freePort();
    const deadPostgres = await freePort();
    const ops = await startWorkerOps({
      ...settings(),
      redisUrl: `redis://127.0.0.1:${deadRedis}`,
      databaseUrl: `postgres://postgres:hunter2@127.0.0.1:${deadPostgres}/llm_tracker`,
      checkTimeoutMs: 300,
    });
    ops.watch({ running: true });
    const response = await fetch(`${ops.server!.url}/healthz`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(text).not.toContain("hunter2");
    const body = JSON.parse(text) as HealthReport;
    expect(body.checks.redis?.ok).toBe(false);
    expect(body.checks.postgres?.ok).toBe(false);
    expect(body.checks.worker?.ok).toBe(true);
    const scraped = parseExposition(await (await fetch(`${ops.server!.url}/metrics`)).text());
    expect(sampleValue(scraped, "llm_tracker_queue_up")).toBe(0);
    await Promise.all([ops.close(), ops.close()]);
  });
});
