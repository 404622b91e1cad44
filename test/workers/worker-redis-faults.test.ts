// The worker process (`llm-tracker worker`, Node's default unhandled-rejection
// mode) while Redis restarts: connections killed while connecting (CLIENT
// SETINFO, the INFO ready check), in the middle of a pipeline of BullMQ's job
// scripts, and after a script ran but before its reply came back, each
// followed by a second of refused connections. It stays up and writes every event once.
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";
import { fatalErrorReport } from "../support/script-process.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { startTcpProxy, type FaultPlan, type TcpProxy } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";
import { spawnWorker, type WorkerProcess } from "./helpers/worker-process.js";

const PLANS: FaultPlan[] = [
  { at: "redis-command", command: "CLIENT", refuseMs: 1_000 },
  { at: "redis-command", command: "INFO", refuseMs: 1_000 },
  { at: "redis-mid-pipeline", refuseMs: 1_000 },
  { at: "redis-reply-lost", refuseMs: 1_000 },
];
let database: TestDatabase;
let sql: postgres.Sql;
let proxy: TcpProxy;
let worker: WorkerProcess | undefined;
const queueName = testQueueName();

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy(Number(target.port || 6379), target.hostname, { protocol: "redis" });
});

afterAll(async () => {
  if (worker && !worker.gone) worker.child.kill("SIGKILL");
  await proxy?.close();
  await sql?.end();
  await obliterateQueue(queueName);
  await database?.drop();
});

async function written(events: UsageEvent[]): Promise<number> {
  return (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage WHERE id IN ${sql(events.map((e) => e.id))}`)[0]!.n;
}

it("stays up through cuts while connecting, mid-pipeline and with a lost reply, and writes every event once", async () => {
  const alive = () => {
    if (worker!.gone) throw new Error(`the worker died:\n${worker!.output().slice(-3000)}`);
    return true;
  };
  proxy.arm(...PLANS);
  const viaProxy = new URL(TEST_REDIS_URL);
  viaProxy.port = String(proxy.port);
  worker = spawnWorker(
    { DATABASE_URL: database.url, REDIS_URL: viaProxy.toString(), LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_FLUSH_MS: "20", LLM_TRACKER_ROLLUP_COMPACT_MS: "0" },
    // Short locks: a job whose completion reply was lost comes back soon.
    ["--shutdown-timeout-ms", "5000", "--lock-duration-ms", "2000"],
  );
  // Jobs go straight to Redis; the worker meets the cuts as it connects, takes and completes them.
  const expected: UsageEvent[] = [];
  for (let wave = 0; proxy.pendingPlans > 0; wave += 1) {
    expect(wave).toBeLessThan(60);
    const events = Array.from({ length: 20 }, () => makeEvent());
    expected.push(...events);
    await addEventJobs(queueName, [events.slice(0, 10), events.slice(10)]);
    await waitFor(async () => alive() && (proxy.pendingPlans === 0 || (await written(events)) === events.length), 40_000, "a wave written or the next cut");
  }
  expect(proxy.faults).toEqual(PLANS.map((plan) => plan.at));
  await waitFor(async () => alive() && (await written(expected)) === expected.length, 40_000, "every event written");
  const [total] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage`;
  expect(total!.n).toBe(expected.length);

  worker.child.kill("SIGTERM");
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  expect(fatalErrorReport(worker.output())).toBeUndefined();
});
