// The worker as a process: SIGKILL mid-flow loses and duplicates nothing;
// SIGTERM writes what it holds and exits within its bound, even with Redis gone.
import { Queue } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { spawnWorker, type WorkerProcess } from "./helpers/worker-process.js";

let db: TestDatabase;
let sql: postgres.Sql;
const queues: string[] = [];
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.url);
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  for (const w of children) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
  await sql?.end();
  for (const name of queues) await obliterateQueue(name);
  await db?.drop();
});

function newQueue(): string {
  const name = testQueueName();
  queues.push(name);
  return name;
}

function start(queueName: string, env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  const w = spawnWorker({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, ...env }, args);
  children.push(w);
  return w;
}

async function totals(): Promise<{ rows: number; prompt: number; total: number }> {
  const [row] = await sql<{ rows: number; prompt: number; total: number }[]>`
    select count(*)::int as rows, coalesce(sum(prompt_tokens), 0)::int as prompt, coalesce(sum(total_tokens), 0)::int as total
    from llm_tracker_usage`;
  return row!;
}

async function queueCounts(queueName: string): Promise<{ waiting: number; active: number; delayed: number; failed: number }> {
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed");
    return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 };
  } finally {
    await queue.close();
  }
}

describe("worker process", () => {
  it("keeps every event exactly once when SIGKILLed several times while 20,000 events flow", async () => {
    const queueName = newQueue();
    const waves = 4;
    const jobsPerWave = 50;
    const eventsPerJob = 100; // 4 × 50 × 100 = 20,000 events
    let prompt = 0;
    const wave = (w: number) =>
      Array.from({ length: jobsPerWave }, (_, j) =>
        Array.from({ length: eventsPerJob }, (_, e) => {
          const tokens = 1 + ((w * 7 + j * 3 + e) % 50);
          prompt += tokens;
          return makeEvent({ prompt_tokens: tokens, completion_tokens: 1, total_tokens: tokens + 1 });
        }),
      );
    // Short locks so a killed worker's jobs come back within seconds, not the default 30 s.
    const args = ["--lock-duration-ms", "1500"];
    const killedAt: number[] = [];
    for (let w = 0; w < waves; w += 1) {
      const worker = start(queueName, { LLM_TRACKER_LOG_LEVEL: "warn" }, args);
      const before = (await totals()).rows;
      await addEventJobs(queueName, wave(w));
      // Kill as soon as this worker has committed something, while the rest of its jobs are in flight.
      await waitFor(async () => (await totals()).rows > before, 30_000, `rows from worker ${w}`);
      worker.child.kill("SIGKILL");
      expect((await worker.exited).signal).toBe("SIGKILL");
      killedAt.push((await totals()).rows);
    }
    expect(killedAt.some((rows, i) => rows < (i + 1) * jobsPerWave * eventsPerJob)).toBe(true); // killed mid-flow

    const last = start(queueName, { LLM_TRACKER_LOG_LEVEL: "warn" }, args);
    await waitFor(async () => (await totals()).rows === 20_000, 45_000, "all 20,000 rows after restart");
    await waitFor(async () => {
      const counts = await queueCounts(queueName);
      return counts.active + counts.waiting === 0;
    }, 20_000, "queue drained");
    expect(await totals()).toEqual({ rows: 20_000, prompt, total: prompt + 20_000 });
    expect((await queueCounts(queueName)).failed).toBe(0);
    last.child.kill("SIGTERM");
    expect((await last.exited).code).toBe(0);
  });

  it("on SIGTERM writes the events it holds and exits", async () => {
    const queueName = newQueue();
    // A flush interval far beyond the test: only the shutdown can write this partial batch.
    const worker = start(queueName, { LLM_TRACKER_FLUSH_MS: "600000" }, ["--shutdown-timeout-ms", "5000"]);
    await waitFor(() => worker.output().includes("usage worker consuming"), 20_000, "worker started");
    const events = Array.from({ length: 30 }, () => makeEvent());
    const before = (await totals()).rows;
    await addEventJobs(queueName, [events.slice(0, 10), events.slice(10)]);
    await waitFor(async () => (await queueCounts(queueName)).active === 2, 10_000, "both jobs taken");
    expect((await totals()).rows).toBe(before);

    worker.child.kill("SIGTERM");
    const exit = await Promise.race([worker.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 15_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage where id = any(${events.map((e) => e.id)}::uuid[])`;
    expect(row!.n).toBe(30);
    expect(await queueCounts(queueName)).toMatchObject({ active: 0, waiting: 0, failed: 0 });
  });

  it("on SIGTERM exits within its shutdown timeout even when Redis is unreachable", async () => {
    const queueName = newQueue();
    const redisProxy = await startTcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379), new URL(TEST_REDIS_URL).hostname);
    try {
      const viaProxy = new URL(TEST_REDIS_URL);
      viaProxy.port = String(redisProxy.port);
      const worker = start(queueName, { REDIS_URL: viaProxy.toString(), LLM_TRACKER_FLUSH_MS: "600000", LLM_TRACKER_LOG_LEVEL: "debug" }, [
        "--shutdown-timeout-ms",
        "2000",
      ]);
      const held = [makeEvent(), makeEvent()];
      await addEventJobs(queueName, [held]);
      // Held in the worker's memory, not only marked active in Redis: cut before the job's
      // data reached the worker, and there would be nothing to write on the way out.
      await waitFor(() => worker.output().includes("job joined a batch"), 20_000, "job held by the worker");

      await redisProxy.cut();
      worker.child.kill("SIGTERM");
      // Bound: the 2 s shutdown timeout plus the forced close (≤ 3 s) plus process start-up slack.
      const exit = await Promise.race([worker.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 8_000))]);
      expect(exit).not.toBe("hung");
      // Its events were written on the way out; the job itself could not be acknowledged and will be redelivered.
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage where id = any(${held.map((e) => e.id)}::uuid[])`;
      expect(row!.n).toBe(2);
    } finally {
      await redisProxy.close();
    }
  });
  it("on SIGTERM exits within its shutdown timeout when Postgres is unreachable, and a later worker writes the events once", async () => {
    const queueName = newQueue();
    const pgUrl = new URL(db.url);
    const pgProxy = await startTcpProxy(Number(pgUrl.port || 5432), pgUrl.hostname);
    try {
      const viaProxy = new URL(db.url);
      viaProxy.port = String(pgProxy.port);
      const args = ["--shutdown-timeout-ms", "2000", "--lock-duration-ms", "1000"];
      const first = start(queueName, { DATABASE_URL: viaProxy.toString() }, args);
      await waitFor(() => first.output().includes("usage worker consuming"), 20_000, "worker started");
      await pgProxy.cut();
      const held = Array.from({ length: 5 }, () => makeEvent());
      await addEventJobs(queueName, [held]);
      await waitFor(async () => (await queueCounts(queueName)).active === 1, 20_000, "job taken while Postgres is away");

      first.child.kill("SIGTERM");
      // Bound: the 2 s shutdown timeout, the forced close (≤ 3 s) and process start-up slack.
      const exit = await Promise.race([first.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 8_000))]);
      expect(exit).not.toBe("hung");
      expect((await queueCounts(queueName)).failed).toBe(0);

      // The unacknowledged job comes back to the next worker once its lock expires.
      const second = start(queueName, {}, args);
      await waitFor(async () => {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage where id = any(${held.map((e) => e.id)}::uuid[])`;
        return row!.n === held.length ? true : undefined;
      }, 30_000, "held events written by the next worker");
      await waitFor(async () => ((await queueCounts(queueName)).active === 0 ? true : undefined), 10_000, "job acknowledged");
      expect(await queueCounts(queueName)).toMatchObject({ waiting: 0, failed: 0 });
      second.child.kill("SIGTERM");
      expect((await second.exited).code).toBe(0);
    } finally {
      await pgProxy.close();
    }
  });
});
