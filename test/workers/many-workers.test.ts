// Three worker processes on one queue, each SIGKILLed and restarted at random
// while 50,000 events flow, all compacting the rollup every 200 ms: every event
// becomes exactly one row, and the rollup's totals are the rows' totals.
import { Queue } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";
import { spawnWorker, type WorkerProcess } from "./helpers/worker-process.js";

const WORKERS = 3;
const WAVES = 10;
const JOBS_PER_WAVE = 50;
const EVENTS_PER_JOB = 100; // 10 × 50 × 100 = 50,000 events
const TOTAL = WAVES * JOBS_PER_WAVE * EVENTS_PER_JOB;

let db: TestDatabase;
let sql: postgres.Sql;
const queueName = testQueueName();
const everyProcess: WorkerProcess[] = [];

/** mulberry32: a small seeded generator, so a failing run's kill order can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function startWorker(): WorkerProcess {
  const worker = spawnWorker(
    { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_LOG_LEVEL: "warn", LLM_TRACKER_ROLLUP_COMPACT_MS: "200" },
    // Short locks: a killed worker's jobs come back to the others within seconds.
    ["--lock-duration-ms", "1500"],
  );
  everyProcess.push(worker);
  return worker;
}

async function rows(): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage`;
  return row!.n;
}

async function queueCounts(): Promise<Record<string, number>> {
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    return await queue.getJobCounts("waiting", "active", "delayed", "failed");
  } finally {
    await queue.close();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.url);
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  for (const worker of everyProcess) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
  await Promise.all(everyProcess.map((worker) => worker.exited));
  await sql?.end();
  await obliterateQueue(queueName);
  await db?.drop();
});

describe("many workers", () => {
  it("three workers, each SIGKILLed and restarted at random while 50,000 events flow, write every event exactly once", async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const next = random(seed);
    const workers = Array.from({ length: WORKERS }, () => startWorker());

    // Each worker is killed once in a random order, plus two more random kills, at random waves.
    const victims = [...Array(WORKERS).keys()].sort(() => next() - 0.5).concat([Math.floor(next() * WORKERS), Math.floor(next() * WORKERS)]);
    const killWaves = new Set<number>();
    while (killWaves.size < victims.length) killWaves.add(1 + Math.floor(next() * (WAVES - 1)));
    const killPlan = [...killWaves].sort((a, b) => a - b);

    let prompt = 0;
    let completion = 0;
    const killedWithRows: number[] = [];
    for (let wave = 0; wave < WAVES; wave += 1) {
      const groups = Array.from({ length: JOBS_PER_WAVE }, (_, job) =>
        Array.from({ length: EVENTS_PER_JOB }, (_, e) => {
          const tokens = 1 + ((wave * 31 + job * 7 + e) % 97);
          prompt += tokens;
          completion += 2;
          // Spread over three days and every hour: many rollup keys, several buckets.
          const at = new Date(Date.UTC(2025, 2, 3) + ((wave * 5_000 + job * 100 + e) % 259_200) * 1_000).toISOString();
          return makeEvent({ prompt_tokens: tokens, completion_tokens: 2, total_tokens: tokens + 2, user_id: `user-${e % 13}`, created_at: at });
        }),
      );
      const before = await rows();
      await addEventJobs(queueName, groups);
      const planned = killPlan.indexOf(wave);
      if (planned >= 0) {
        // Kill once this wave is being written: some of its jobs are in flight in the victim.
        await waitFor(async () => (await rows()) > before, 30_000, `rows of wave ${wave}`);
        const index = victims[planned]!;
        workers[index]!.child.kill("SIGKILL");
        expect((await workers[index]!.exited).signal).toBe("SIGKILL");
        killedWithRows.push(await rows());
        workers[index] = startWorker();
      }
    }
    expect(killedWithRows.length).toBe(victims.length);
    expect(killedWithRows.every((n) => n < TOTAL), `killed mid-flow (seed ${seed})`).toBe(true);

    await waitFor(async () => (await rows()) === TOTAL, 60_000, `all ${TOTAL} rows (seed ${seed})`);
    await waitFor(async () => {
      const counts = await queueCounts();
      return counts.waiting! + counts.active! + counts.delayed! === 0;
    }, 20_000, "the queue to drain");
    expect((await queueCounts()).failed).toBe(0);

    const [raw] = await sql`SELECT count(*)::int8 AS calls, sum(prompt_tokens)::int8 AS prompt, sum(completion_tokens)::int8 AS completion FROM llm_tracker_usage`;
    expect({ calls: Number(raw!.calls), prompt: Number(raw!.prompt), completion: Number(raw!.completion) }).toEqual({ calls: TOTAL, prompt, completion });
    // The rollup, appended by every statement and merged by three compacting workers at once, adds up to the same.
    for (const [grain, dimension] of [["hour", "model"], ["day", "user"], ["day", "node"]] as const) {
      const [sums] = await sql`SELECT sum(calls)::int8 AS calls, sum(prompt_tokens)::int8 AS prompt, sum(completion_tokens)::int8 AS completion
        FROM llm_tracker_usage_rollup WHERE grain = ${grain} AND dimension = ${dimension}`;
      expect({ calls: Number(sums!.calls), prompt: Number(sums!.prompt), completion: Number(sums!.completion) }, `${grain}/${dimension}`).toEqual({ calls: TOTAL, prompt, completion });
    }
    for (const worker of workers) worker.child.kill("SIGTERM");
    for (const worker of workers) expect((await worker.exited).code).toBe(0);
  });
});
