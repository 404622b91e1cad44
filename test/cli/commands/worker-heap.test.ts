// `llm-tracker worker` holds its memory bound however it is started: without a
// heap flag it runs in a worker thread capped at WORKER_HEAP_MB; a flag (or
// NODE_OPTIONS) given by the deployment wins. Signals stop it either way.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnWorker } from "../../workers/helpers/worker-process.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { TEST_REDIS_URL } from "../../support/services.js";
import { obliterateQueue } from "../../support/test-queue.js";
import { waitFor } from "../../support/wait-for.js";

let database: TestDatabase;
const queueName = `test-${randomUUID()}`;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await obliterateQueue(queueName);
  await database?.drop();
});

/** The worker's heap limit as it reports it (debug line at start), in MB. */
function heapLimitMb(output: string): number | undefined {
  const line = output.split("\n").find((text) => text.includes('"heapLimitMb"'));
  return line ? (JSON.parse(line) as { heapLimitMb: number }).heapLimitMb : undefined;
}

describe("llm-tracker worker's heap", () => {
  const env = () => ({ DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_LOG_LEVEL: "debug" });

  it("is capped near 128 MB when node got no heap flag, and SIGTERM still stops it cleanly", async () => {
    const worker = spawnWorker(env(), [], { heapFlag: false });
    const limit = await waitFor(() => heapLimitMb(worker.output()), 30_000, "the heap limit line");
    // V8's limit is the old-generation cap plus the young generation's semi-spaces.
    expect(limit).toBeGreaterThanOrEqual(128);
    expect(limit).toBeLessThan(200);
    await waitFor(() => worker.output().includes("usage worker consuming"), 30_000, "worker consuming");
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain("usage worker stopped");
  });

  it("keeps the heap size a deployment chose through NODE_OPTIONS", async () => {
    const worker = spawnWorker({ ...env(), NODE_OPTIONS: "--max-old-space-size=300" }, [], { heapFlag: false });
    const limit = await waitFor(() => heapLimitMb(worker.output()), 30_000, "the heap limit line");
    expect(limit).toBeGreaterThanOrEqual(300);
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  });

  it("stops with exit code 0 when SIGINT arrives while it is still starting", async () => {
    const worker = spawnWorker({ ...env(), DATABASE_URL: "postgres://postgres@127.0.0.1:1/never" }, [], { heapFlag: false });
    await waitFor(() => worker.output().includes("usage worker starting"), 30_000, "worker starting");
    worker.child.kill("SIGINT");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });
});
