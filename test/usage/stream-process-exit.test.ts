// A process that exits (process.exit, or SIGTERM) while a tracked stream is unfinished still
// hands that stream's event over: spooled at 'exit', queued at SIGTERM; the worker writes the row.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { UsageProducer } from "../../src/usage/producer.js";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { loadSse, startFakeProvider, type FakeProvider } from "../fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { waitFor } from "../support/wait-for.js";

let fake: FakeProvider;
let db: TestDatabase;
let sql: postgres.Sql;
let worker: UsageWorkerHandle;
let queueName: string;
let spoolDir: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  db = await createTestDatabase();
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-stream-exit-"));
  worker = await startUsageWorker({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, batchSize: 100, flushMs: 10, logger: createLogger("silent") });
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await worker?.close();
  await sql?.end();
  await db?.drop();
  await obliterateQueue(queueName);
  await fake?.close();
  await rm(spoolDir, { recursive: true, force: true });
});

/** Starts the child; resolves with it once it printed its first delta. */
async function startChild(mode: "exit" | "wait") {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "stream-exit-child.ts"), mode], {
    env: {
      ...process.env,
      LLM_PROVIDER: "openai",
      OPENAI_CONFIG: JSON.stringify({ api_key: "sk-exit-child-key-0123456789", base_url: `${fake.url}/v1`, model: "gpt-4.1-mini" }),
      LLM_MAX_RETRIES: "0",
      REDIS_URL: TEST_REDIS_URL,
      LLM_TRACKER_QUEUE: queueName,
      LLM_TRACKER_SPOOL_DIR: spoolDir,
      LLM_TRACKER_LOG_LEVEL: "silent",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("first ")) resolve(JSON.parse(line.slice("first ".length)) as string);
    });
    void exited.then(() => reject(new Error("the child exited before its first delta")));
  });
  return { child, exited, first };
}

async function rowOf(nodeName: string) {
  let rows: postgres.Row[] = [];
  await waitFor(async () => (rows = await sql`select * from llm_tracker_usage where metadata->>'node_name' = ${nodeName}`).length > 0, 30_000, `row of ${nodeName}`);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe("a process that exits while a tracked stream is unfinished", () => {
  it("process.exit(): the stream's event is spooled at exit and becomes its row once replayed", async () => {
    fake.enqueue({ stream: { sse: loadSse("openai/stream-basic"), cut: { after: 3, then: "stall" } } });
    const { exited, first } = await startChild("exit");
    expect(first).toBe("Tides");
    expect(await exited).toEqual({ code: 0, signal: null });
    expect((await readdir(spoolDir)).length).toBeGreaterThan(0);

    const later = new UsageProducer({ redisUrl: TEST_REDIS_URL, queueName, spoolDir, logger: createLogger("silent") });
    try {
      await waitFor(() => later.stats().replayed === 1, 20_000, "the spool to be replayed");
    } finally {
      await later.shutdown();
    }
    const stored = await rowOf("exit-exit");
    expect(stored).toMatchObject({ success: false, streamed: true, error: "stream ended early: the process exited before the stream ended", usage_reported: false });
    expect(stored.completion_tokens).toBeGreaterThan(0);
    expect(stored.time_to_first_token_ms).not.toBeNull();
    expect(stored.time_to_first_token_ms).toBeLessThanOrEqual(stored.latency_ms);
  });

  it("SIGTERM (no handler of the app's own): the stream is ended, its event queued, then the process dies of the signal", async () => {
    fake.enqueue({ stream: { sse: loadSse("openai/stream-basic"), cut: { after: 3, then: "stall" } } });
    const { child, exited, first } = await startChild("wait");
    expect(first).toBe("Tides");
    child.kill("SIGTERM");
    expect(await exited).toEqual({ code: null, signal: "SIGTERM" });
    const stored = await rowOf("exit-wait");
    expect(stored).toMatchObject({ success: false, streamed: true, error: "stream ended early: the process exited before the stream ended", usage_reported: false });
  });
});
