// Postgres away while events flow: the worker retries the batch, loses nothing, resumes unaided.
import postgres from "postgres";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let db: TestDatabase;
let proxy: TcpProxy;
let worker: UsageWorkerHandle | undefined;
const queueName = testQueueName();

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await startTcpProxy(Number(new URL(ADMIN_DATABASE_URL).port || 5432), new URL(ADMIN_DATABASE_URL).hostname);
});

afterAll(async () => {
  await worker?.close();
  await proxy?.close();
  await obliterateQueue(queueName);
  await db?.drop();
});

it("retries while Postgres is unreachable and then writes every event exactly once", async () => {
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const retries: string[] = [];
  worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL,
    databaseUrl: viaProxy.toString(),
    queueName,
    batchSize: 200,
    flushMs: 10,
    retryInitialMs: 50,
    retryMaxMs: 200,
    logger: pino({ level: "silent" }),
    observer: { retry: (info) => retries.push(info.error) },
  });
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    const count = async () => (await sql<{ n: number; tokens: number }[]>`select count(*)::int as n, coalesce(sum(total_tokens), 0)::int as tokens from llm_tracker_usage`)[0]!;
    const before = Array.from({ length: 10 }, () => Array.from({ length: 20 }, () => makeEvent()));
    await addEventJobs(queueName, before);
    await waitFor(async () => (await count()).n === 200, 20_000, "first events");

    await proxy.cut();
    const during = Array.from({ length: 30 }, () => Array.from({ length: 20 }, () => makeEvent()));
    await addEventJobs(queueName, during);
    await waitFor(() => retries.length >= 3, 20_000, "retries while Postgres is away");
    expect((await count()).n).toBe(200);

    await proxy.restore();
    await waitFor(async () => (await count()).n === 800, 30_000, "every event after Postgres is back");
    expect(await count()).toEqual({ n: 800, tokens: 800 * 18 });
    expect(retries.some((e) => /ECONNREFUSED|CONNECTION|ECONNRESET|08/.test(e))).toBe(true);
  } finally {
    await sql.end();
  }
});
