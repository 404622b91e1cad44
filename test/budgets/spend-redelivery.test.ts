// Spend stays exact while workers die mid-batch and restart: a redelivered job's rows
// are not inserted again, so not counted again, and each restart's rebuild races the
// other worker's increments without losing or doubling any row.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodAt } from "../../src/budgets/budget-periods.js";
import { periodHashKey, spendKeyBase, usdTextToUnits } from "../../src/budgets/spend-keys.js";
import { runMigrations } from "../../src/db/migrate.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";
import { spawnWorker, type WorkerProcess } from "../workers/helpers/worker-process.js";

let db: TestDatabase;
let sql: postgres.Sql;
let redis: Redis;
let queueName: string;
const children: WorkerProcess[] = [];

const BUDGETS = JSON.stringify([
  { scope: "global", period: "month", limit_usd: 1_000_000 },
  { scope: "user", period: "day", limit_usd: 1_000 },
]);

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.url);
  sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  redis = new Redis(TEST_REDIS_URL);
  queueName = testQueueName();
});

afterAll(async () => {
  for (const w of children) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
  await sql?.end();
  const keys = await redis.keys(`${spendKeyBase("bull", queueName)}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis?.disconnect();
  await obliterateQueue(queueName);
  await db?.drop();
});

function start(logLevel = "info"): WorkerProcess {
  const w = spawnWorker(
    { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_BUDGETS: BUDGETS, LLM_TRACKER_LOG_LEVEL: logLevel },
    ["--lock-duration-ms", "1500"],
  );
  children.push(w);
  return w;
}

const rows = async () => (await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage`)[0]!.n;

/** How many jobs a worker (logging at debug) has taken into a batch so far. */
const joinedJobs = (worker: WorkerProcess) => worker.output().split("job joined a batch").length - 1;

/**
 * Holds every INSERT into the usage table until `release` is called: the workers take jobs
 * into batches and wait on the lock, so a worker killed meanwhile certainly dies mid-batch
 * (killing it once its rows appear could come after it had finished, and did, 1 run in 4).
 */
async function holdInserts(): Promise<{ release: () => Promise<void> }> {
  const locker = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => (locked = resolve));
  const transaction = locker.begin(async (tx) => {
    await tx`LOCK TABLE llm_tracker_usage IN SHARE MODE`;
    locked();
    await released;
  });
  await Promise.race([holding, transaction]);
  return {
    release: async () => {
      release();
      await transaction;
      await locker.end();
    },
  };
}

describe("budget spend under redelivery", () => {
  it("equals Postgres's sums exactly after one of two workers is SIGKILLed mid-batch and restarted, three times", async () => {
    const steady = start();
    const users = ["u-a", "u-b", "u-c"];
    const total = 3 * 40 * 50;
    const now = new Date().toISOString();
    const wave = () =>
      Array.from({ length: 40 }, (_, j) =>
        Array.from({ length: 50 }, (_, e) => makeEvent({ id: randomUUID(), created_at: now, user_id: users[(j + e) % 3]!, prompt_tokens: 1_000 + e, total_tokens: 1_007 + e })),
      );
    for (let w = 0; w < 3; w += 1) {
      // Debug level: the victim logs each job it takes into a batch.
      const victim = start("debug");
      await waitFor(() => victim.output().includes("usage worker consuming"), 30_000, `worker ${w} consuming`);
      const held = await holdInserts();
      // Read under the lock: the steady worker may still be writing the last wave's redelivered jobs.
      const before = await rows();
      await addEventJobs(queueName, wave());
      await waitFor(() => joinedJobs(victim) > 0, 30_000, `the victim of wave ${w} taking jobs into a batch`);
      victim.child.kill("SIGKILL");
      await victim.exited;
      // Killed mid-batch: it had taken jobs, and none of this wave's rows could be written yet.
      expect(await rows()).toBe(before);
      await held.release();
      await waitFor(async () => (await rows()) > before, 30_000, `rows of wave ${w}`);
    }
    // One more start: its rebuild runs while the steady worker finishes the redelivered jobs.
    start();
    await waitFor(async () => (await rows()) === total, 60_000, "every row written");

    const month = periodHashKey(spendKeyBase("bull", queueName), "month", "UTC", periodAt("month", "UTC", Date.now()).label);
    const day = periodHashKey(spendKeyBase("bull", queueName), "day", "UTC", periodAt("day", "UTC", Date.now()).label);
    const [sum] = await sql<{ cost: string }[]>`select sum(cost_usd)::text as cost from llm_tracker_usage`;
    const cost = sum!.cost;
    const perUser = await sql<{ user_id: string; cost: string }[]>`select user_id, sum(cost_usd)::text as cost from llm_tracker_usage group by 1`;
    const exact = async () => {
      const g = await redis.hget(month, "g");
      const fields = await redis.hmget(day, ...perUser.map((u) => `u:${u.user_id}`));
      return g === usdTextToUnits(cost).toString() && perUser.every((u, i) => fields[i] === usdTextToUnits(u.cost).toString());
    };
    // The steady worker never restarted: what it added while the others rebuilt must be neither lost nor doubled.
    await waitFor(exact, 30_000, "Redis spend = Postgres sums");
    expect(steady.child.exitCode).toBe(null);
  }, 180_000);
});
