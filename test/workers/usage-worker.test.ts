// The worker against real Redis and Postgres: rows, deduplication, poison events.
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import postgres from "postgres";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUsageWorker, type UsageWorkerHandle, type WorkerObserver } from "../../workers/usage-worker.js";
import { MAX_METADATA_BYTES } from "../../workers/prepare-event.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";

let db: TestDatabase;
let sql: postgres.Sql;
let worker: UsageWorkerHandle;
const queueName = testQueueName();
const poisonSeen: Parameters<NonNullable<WorkerObserver["poison"]>>[0][] = [];
let batches = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL,
    databaseUrl: db.url,
    queueName,
    batchSize: 500,
    flushMs: 20,
    rollupCompactMs: 100,
    logger: pino({ level: "silent" }),
    observer: { poison: (info) => poisonSeen.push(info), batchWritten: () => (batches += 1) },
  });
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await worker?.close();
  await sql?.end();
  await obliterateQueue(queueName);
  await db?.drop();
});

async function rowCount(ids: string[]): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage where id = any(${ids}::uuid[])`;
  return row!.n;
}

async function queueSettled(): Promise<boolean> {
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    return Object.values(counts).every((n) => n === 0);
  } finally {
    await queue.close();
  }
}

describe("usage worker", () => {
  it("merges the rollup's partial sums while it runs, totals unchanged", async () => {
    const user = `compact-${randomUUID()}`;
    const events = Array.from({ length: 6 }, () => makeEvent({ user_id: user, created_at: new Date().toISOString() }));
    for (const event of events) {
      await addEventJobs(queueName, [[event]]); // one job, one batch, one appended partial sum each
      await waitFor(async () => (await rowCount([event.id])) === 1, 10_000, "event written");
    }
    const userRows = async () =>
      (await sql<{ rows: number; calls: number; tokens: number }[]>`
        select count(*)::int as rows, sum(calls)::int as calls, sum(total_tokens)::int as tokens
        from llm_tracker_usage_rollup where dimension = 'user' and grain = 'hour' and key = ${user}`)[0]!;
    const merged = await waitFor(async () => {
      const now = await userRows();
      return now.rows === 1 ? now : undefined;
    }, 10_000, "the user's hour rows merged into one");
    expect(merged).toEqual({ rows: 1, calls: 6, tokens: events.reduce((sum, e) => sum + e.total_tokens, 0) });
  });

  it("writes every column of the event, created_at from the event and metadata as jsonb", async () => {
    const full = makeEvent({
      provider: "azure_openai",
      deployment: "prod-4o",
      error: "boom",
      success: false,
      usage_reported: false,
      latency_ms: 1234,
      user_id: "u-42",
      created_at: "2024-12-31T23:59:59.999+02:00",
      metadata: { node_name: "n", source_path: "/x", nested: { a: [1, "two", null] } },
    });
    const sparse = makeEvent({ provider: null, user_id: null, latency_ms: null, metadata: {} });
    await addEventJobs(queueName, [[full], [sparse]]);
    await waitFor(async () => (await rowCount([full.id, sparse.id])) === 2, 20_000, "both rows");

    const [row] = await sql`select * from llm_tracker_usage where id = ${full.id}`;
    expect(row).toMatchObject({
      id: full.id,
      user_id: "u-42",
      model: "gpt-4o-mini",
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      cached_tokens: 3,
      reasoning_tokens: 2,
      success: false,
      error: "boom",
      metadata: { node_name: "n", source_path: "/x", nested: { a: [1, "two", null] } },
      provider: "azure_openai",
      deployment: "prod-4o",
      latency_ms: 1234,
      usage_reported: false,
    });
    expect((row!.created_at as Date).toISOString()).toBe("2024-12-31T21:59:59.999Z");
    const [nulls] = await sql`select provider, user_id, latency_ms, metadata from llm_tracker_usage where id = ${sparse.id}`;
    expect(nulls).toEqual({ provider: null, user_id: null, latency_ms: null, metadata: {} });
  });

  it("writes one row for an event delivered twice in two jobs", async () => {
    const event = makeEvent();
    const other = makeEvent();
    await addEventJobs(queueName, [[event, other], [event]]);
    await waitFor(queueSettled, 20_000, "both jobs done");
    expect(await rowCount([event.id, other.id])).toBe(2);
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage where id = ${event.id}`;
    expect(row!.n).toBe(1);
  });

  it("isolates poison events, commits the rest of their batch and fails their job naming them", async () => {
    const good = [makeEvent(), makeEvent(), makeEvent()];
    const badSchema = { ...makeEvent(), model: undefined, prompt_tokens: "many" };
    const nulInString = makeEvent({ user_id: "a\u0000b", error: "x\u0000", model: "m\u0000" });
    const nulInJsonKey = makeEvent({ metadata: { "k\u0000ey": "v\u0000al", deep: { "n\u0000": ["\u0000"] } } });
    const hugeMetadata = makeEvent({ metadata: { blob: "x".repeat(2 * 1024 * 1024) } });
    const countTooBig = makeEvent({ prompt_tokens: 3_000_000_000, total_tokens: 3_000_000_007 });
    const refusedByPostgres = makeEvent({ created_at: "0000-01-01T00:00:00Z" }); // passes the schema; year 0 does not exist
    const cleanJob = [makeEvent(), makeEvent()];

    const [poisonJobId] = await addEventJobs(queueName, [
      [good[0], badSchema, nulInString, good[1], nulInJsonKey, hugeMetadata, countTooBig, refusedByPostgres, good[2]],
      cleanJob,
    ]);
    await waitFor(queueSettled, 20_000, "jobs done");

    const written = [...good, nulInString, nulInJsonKey, ...cleanJob].map((e) => e.id);
    expect(await rowCount(written)).toBe(written.length);
    expect(await rowCount([hugeMetadata.id, countTooBig.id, refusedByPostgres.id])).toBe(0);

    const [sanitized] = await sql`select user_id, error, model from llm_tracker_usage where id = ${nulInString.id}`;
    expect(sanitized).toEqual({ user_id: "ab", error: "x", model: "m" });
    const [json] = await sql`select metadata from llm_tracker_usage where id = ${nulInJsonKey.id}`;
    expect(json!.metadata).toEqual({ key: "val", deep: { n: [""] } });

    const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
    try {
      const job = await queue.getJob(poisonJobId!);
      expect(await job!.getState()).toBe("failed");
      expect(job!.attemptsMade).toBeLessThanOrEqual(1); // UnrecoverableError: no retries
      const reason = job!.failedReason;
      expect(reason).toMatch(/^4 of 9 events refused/);
      expect(reason).toContain(`[${badSchema.id}] schema:`);
      expect(reason).toContain(`[${hugeMetadata.id}] metadata exceeds ${MAX_METADATA_BYTES} bytes`);
      expect(reason).toContain(`[${countTooBig.id}] prompt_tokens exceeds`);
      expect(reason).toContain(`[${refusedByPostgres.id}] rejected by Postgres: 22008`);
      expect((await queue.getFailed()).map((j) => j.id)).toEqual([poisonJobId]);
    } finally {
      await queue.close();
    }
    expect(poisonSeen.map((p) => p.eventId).sort()).toEqual([badSchema.id, hugeMetadata.id, countTooBig.id, refusedByPostgres.id].sort());
    expect(poisonSeen.every((p) => p.jobId === poisonJobId)).toBe(true);
  });

  it("fails a job whose data carries no events array without retrying it", async () => {
    const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
    try {
      const job = await queue.add("usage", { something: randomUUID() }, { attempts: 3 });
      await waitFor(async () => (await job.getState()) === "failed", 20_000, "job failed");
      const failed = await queue.getJob(job.id!);
      expect(failed!.failedReason).toBe("job data has no events array");
      expect(failed!.attemptsMade).toBeLessThanOrEqual(1);
    } finally {
      await queue.close();
    }
  });
});
