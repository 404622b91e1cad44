import { Worker } from "bullmq";
import { Redis } from "ioredis";
import postgres from "postgres";
import { Registry, Counter } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresCheck, redisCheck, runningCheck } from "../../src/ops/health-checks.js";
import { startHealthServer, type HealthReport, type HealthServer, type HealthServerOptions } from "../../src/ops/health-server.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { freePort } from "../support/free-port.js";

const queueName = testQueueName();
let database: TestDatabase;
let sql: postgres.Sql;
let deadSql: postgres.Sql;
let redis: Redis;
let worker: Worker;
const servers: HealthServer[] = [];

async function serve(options: Omit<HealthServerOptions, "port" | "host">): Promise<HealthServer> {
  const server = await startHealthServer({ port: 0, host: "127.0.0.1", ...options });
  servers.push(server);
  return server;
}

async function healthz(server: HealthServer): Promise<{ status: number; body: HealthReport }> {
  const response = await fetch(`${server.url}/healthz`);
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return { status: response.status, body: (await response.json()) as HealthReport };
}

beforeAll(async () => {
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
  deadSql = postgres(`postgres://postgres:hunter2@127.0.0.1:${await freePort()}/llm_tracker`, { max: 1, connect_timeout: 1 });
  redis = new Redis(TEST_REDIS_URL);
  // A real BullMQ worker on an empty queue: running until closed.
  worker = new Worker(queueName, async () => {}, { connection: { url: TEST_REDIS_URL } });
  await worker.waitUntilReady();
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await worker?.close();
  redis?.disconnect();
  await sql?.end();
  await deadSql?.end({ timeout: 0 });
  await database?.drop();
  await obliterateQueue(queueName);
});

describe("GET /healthz", () => {
  it("answers 200 with each check's result when Redis, Postgres and the worker are all fine", async () => {
    const server = await serve({ checks: { redis: redisCheck(redis), postgres: postgresCheck(sql), worker: runningCheck(() => worker.isRunning()) } });
    const { status, body } = await healthz(server);
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
    expect(Object.keys(body.checks).sort()).toEqual(["postgres", "redis", "worker"]);
    for (const result of Object.values(body.checks)) {
      expect(result.ok).toBe(true);
      expect(result.ms).toBeGreaterThanOrEqual(0);
      expect(result.error).toBeUndefined();
    }
  });

  it("answers 503 naming Postgres when Postgres is unreachable, without the password in the answer", async () => {
    const server = await serve({ checks: { redis: redisCheck(redis), postgres: postgresCheck(deadSql), worker: runningCheck(() => worker.isRunning()) } });
    const response = await fetch(`${server.url}/healthz`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(text).not.toContain("hunter2");
    const body = JSON.parse(text) as HealthReport;
    expect(body.status).toBe("fail");
    expect(body.checks.postgres).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED|timed out/) });
    expect(body.checks.redis?.ok).toBe(true);
    expect(body.checks.worker?.ok).toBe(true);
  });

  it("answers 503 when the worker is not running", async () => {
    const stopped = new Worker(testQueueName(), async () => {}, { connection: { url: TEST_REDIS_URL }, autorun: false });
    await stopped.close();
    const server = await serve({ checks: { redis: redisCheck(redis), postgres: postgresCheck(sql), worker: runningCheck(() => stopped.isRunning()) } });
    const { status, body } = await healthz(server);
    expect(status).toBe(503);
    expect(body.checks.worker).toMatchObject({ ok: false, error: "worker is not running" });
    expect(body.checks.postgres?.ok).toBe(true);
  });

  it("answers 503 when a check hangs, instead of hanging itself", async () => {
    const server = await serve({ checks: { stuck: () => new Promise(() => {}) }, checkTimeoutMs: 100 });
    const { status, body } = await healthz(server);
    expect(status).toBe(503);
    expect(body.checks.stuck).toMatchObject({ ok: false, error: "timed out after 100 ms" });
  });

  it("counts a check that throws synchronously as failed", async () => {
    const server = await serve({
      checks: {
        broken: () => {
          throw new Error("could not connect to postgres://app:s3cret@db:5432/llm_tracker");
        },
      },
    });
    const { status, body } = await healthz(server);
    expect(status).toBe(503);
    expect(body.checks.broken?.error).toBe("could not connect to postgres://***@db:5432/llm_tracker");
  });
});

describe("the HTTP server", () => {
  it("serves the registry at /metrics in Prometheus text format", async () => {
    const registry = new Registry();
    new Counter({ name: "probe_total", help: "a probe", registers: [registry] }).inc(3);
    const server = await serve({ checks: {}, registry });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(registry.contentType);
    expect(await response.text()).toContain("probe_total 3");
  });

  it("answers 404 for other paths and 405 for other methods", async () => {
    const server = await serve({ checks: {} });
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404); // no registry given
    const post = await fetch(`${server.url}/healthz`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("closes once however often close() is called, even with a keep-alive connection open", async () => {
    const server = await startHealthServer({ port: 0, host: "127.0.0.1", checks: {} });
    await fetch(`${server.url}/healthz`, { headers: { connection: "keep-alive" } });
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it("refuses to start on a port already taken", async () => {
    const first = await serve({ checks: {} });
    await expect(startHealthServer({ port: first.port, host: "127.0.0.1", checks: {} })).rejects.toThrow(/EADDRINUSE/);
  });
});
