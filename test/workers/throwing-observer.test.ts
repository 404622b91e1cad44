// A metrics observer is the embedding application's code: when its hooks throw,
// the worker logs that and carries on — every event written, every job
// acknowledged, no unhandled rejection in the host process.
import postgres from "postgres";
import { pino } from "pino";
import { Queue } from "bullmq";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";

let database: TestDatabase;
let proxy: TcpProxy;
let sql: postgres.Sql;
let worker: UsageWorkerHandle | undefined;
const queueName = testQueueName();
const logged: { msg: string; hook?: string }[] = [];
const calls: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const target = new URL(database.url);
  proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await worker?.close();
  await proxy?.close();
  await sql?.end();
  await obliterateQueue(queueName);
  await database?.drop();
});

it("logs a throwing observer hook and goes on writing and acknowledging", async () => {
  const throwing = (hook: string) => () => {
    calls.push(hook);
    throw new Error(`${hook} hook broke`);
  };
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL,
    databaseUrl: viaProxy.toString(),
    queueName,
    batchSize: 100,
    flushMs: 10,
    retryInitialMs: 50,
    retryMaxMs: 200,
    rollupCompactMs: 0,
    logger: pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string }) }),
    observer: { batchWritten: throwing("batchWritten"), retry: throwing("retry"), poison: throwing("poison"), unpriced: throwing("unpriced") },
  });
  const ids = async (events: { id: string }[]) =>
    (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage WHERE id IN ${sql(events.map((e) => e.id))}`)[0]!.n;

  // Written (batchWritten), one without a price (unpriced), and a poison job (poison).
  const first = [makeEvent(), makeEvent({ model: "no-such-model-anywhere" })];
  await addEventJobs(queueName, [first, [{ not: "an event" }]]);
  await waitFor(async () => (await ids(first)) === first.length, 20_000, "the first events written");

  // Postgres away: the write is retried (retry), then lands.
  await proxy.cut();
  const second = [makeEvent(), makeEvent()];
  await addEventJobs(queueName, [second]);
  await waitFor(() => calls.includes("retry"), 20_000, "a retried write");
  await proxy.restore();
  await waitFor(async () => (await ids(second)) === second.length, 20_000, "the second events written");

  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    await waitFor(async () => (await queue.getJobCounts("active", "waiting")).active === 0, 20_000, "every job acknowledged");
    // Only the poison job failed, as poison jobs do.
    expect(await queue.getJobCounts("completed", "failed", "waiting")).toMatchObject({ failed: 1, waiting: 0 });
  } finally {
    await queue.close();
  }
  expect(worker.running).toBe(true);
  expect(new Set(calls)).toEqual(new Set(["batchWritten", "retry", "poison", "unpriced"]));
  const hookWarnings = logged.filter((line) => line.msg === "worker observer hook failed").map((line) => line.hook);
  expect(new Set(hookWarnings)).toEqual(new Set(["batchWritten", "retry", "poison", "unpriced"]));
});
