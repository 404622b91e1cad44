// The worker process (`llm-tracker worker`, Node's default unhandled-rejection
// mode) while Postgres restarts: a fresh connection killed right after its
// handshake, at its first query or halfway through the answer, then
// connections refused for a second — at start (migrations) and while it
// writes batches and compacts the rollup. It stays up and writes every event once.
import { Queue } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { UsageEvent } from "../../src/usage/usage-event.js";
import { FRAGILE_MOMENTS, PASSWORD, plans, REFUSE_MS, viaProxy } from "../support/postgres-faults.js";
import { fatalErrorReport } from "../support/script-process.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";
import { spawnWorker, type WorkerProcess } from "./helpers/worker-process.js";

let database: TestDatabase;
let sql: postgres.Sql;
let proxy: TcpProxy;
let worker: WorkerProcess | undefined;
const queueName = testQueueName();

beforeAll(async () => {
  database = await createTestDatabase(); // not migrated: the worker migrates through the proxy
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const target = new URL(database.url);
  proxy = await startTcpProxy(Number(target.port || 5432), target.hostname, { protocol: "postgres" });
});

afterAll(async () => {
  if (worker && !worker.gone) worker.child.kill("SIGKILL");
  await proxy?.close();
  await sql?.end();
  await obliterateQueue(queueName);
  await database?.drop();
});

/** How many of `events` have a row, and their token sum. */
async function written(events: UsageEvent[]): Promise<{ rows: number; tokens: number }> {
  const [row] = await sql<{ rows: number; tokens: number }[]>`
    SELECT count(*)::int AS rows, coalesce(sum(total_tokens), 0)::int AS tokens
    FROM llm_tracker_usage WHERE id IN ${sql(events.map((e) => e.id))}`;
  return row!;
}

it("stays up through a cut at each fragile moment, at start and while writing, and writes every event once", async () => {
  const alive = () => {
    if (worker!.gone) throw new Error(`the worker died:\n${worker!.output().slice(-3000)}`);
    return true;
  };
  // At start: the migrations' first connection dies at its first query.
  proxy.arm(...plans(["pg-first-query"]));
  worker = spawnWorker(
    {
      DATABASE_URL: viaProxy(database.url, proxy),
      REDIS_URL: TEST_REDIS_URL,
      LLM_TRACKER_QUEUE: queueName,
      LLM_TRACKER_FLUSH_MS: "20",
      // Compaction opens and uses connections too: often, so its passes meet the cuts.
      LLM_TRACKER_ROLLUP_COMPACT_MS: "250",
    },
    ["--shutdown-timeout-ms", "5000"],
  );
  await waitFor(() => alive() && worker!.output().includes("usage worker consuming"), 40_000, "the worker consuming");
  expect(proxy.faults).toEqual(["pg-first-query"]);

  // Running: Postgres restarts (every connection dropped, the port refusing), and the
  // worker's next fresh connections die at each fragile moment in turn, while events arrive.
  await proxy.settled();
  proxy.arm(...plans());
  proxy.restart(REFUSE_MS);
  const expected: UsageEvent[] = [];
  for (let wave = 0; proxy.pendingPlans > 0; wave += 1) {
    expect(wave).toBeLessThan(60);
    const events = Array.from({ length: 20 }, () => makeEvent({ prompt_tokens: 1 + (wave % 7), total_tokens: 8 + (wave % 7) }));
    expected.push(...events);
    await addEventJobs(queueName, [events]);
    await waitFor(async () => alive() && (proxy.pendingPlans === 0 || (await written(events)).rows === events.length), 40_000, "a wave written or the next cut");
  }
  expect(proxy.faults).toEqual(FRAGILE_MOMENTS);

  const tokens = expected.reduce((sum, e) => sum + e.total_tokens, 0);
  await waitFor(async () => alive() && (await written(expected)).rows === expected.length, 40_000, "every event written");
  expect(await written(expected)).toEqual({ rows: expected.length, tokens });
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    await waitFor(async () => (await queue.getJobCounts("active", "waiting")).active === 0, 20_000, "every job acknowledged");
    expect(await queue.getJobCounts("failed", "waiting")).toMatchObject({ failed: 0, waiting: 0 });
  } finally {
    await queue.close();
  }

  worker.child.kill("SIGTERM");
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  expect(fatalErrorReport(worker.output())).toBeUndefined();
  // The outage reached the batch writer (retried) and not only the compaction.
  expect(worker.output()).toContain("batch write failed; retrying");
  expect(worker.output()).not.toContain(PASSWORD);
});
