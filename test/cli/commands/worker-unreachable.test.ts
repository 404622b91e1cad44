// `llm-tracker worker` started by hand against nothing: it keeps retrying, as a
// deployed service must, and its log says once, in plain words, what is missing
// and what to start — no stack trace, no password. SIGTERM still stops it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../../support/free-port.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { testQueueName } from "../../support/test-queue.js";
import { waitFor } from "../../support/wait-for.js";
import { spawnWorker, type WorkerProcess } from "../../workers/helpers/worker-process.js";

let db: TestDatabase;
const children: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const w of children) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
  await db?.drop();
});

function start(env: Record<string, string>): WorkerProcess {
  const worker = spawnWorker({ LLM_TRACKER_QUEUE: testQueueName(), ...env });
  children.push(worker);
  return worker;
}

/** Occurrences of `text` in the output. */
function count(output: string, text: string): number {
  return output.split(text).length - 1;
}

it("without Postgres: says once what to start, keeps retrying, stops on SIGTERM", async () => {
  const port = await freePort();
  // Debug level shows every retry, so the test can wait for several of them.
  const worker = start({ DATABASE_URL: `postgres://tracker:hunter2@127.0.0.1:${port}/llm_tracker`, LLM_TRACKER_LOG_LEVEL: "debug" });
  const plain = `cannot reach Postgres at 127.0.0.1:${port} (connection refused) — start it (e.g. docker compose up -d postgres); retrying until it answers`;
  await waitFor(() => count(worker.output(), plain) >= 3, 30_000, "three attempts");

  const lines = worker.output().trim().split("\n").map((line) => JSON.parse(line) as { level: number; msg: string });
  const said = lines.filter((line) => line.msg === plain);
  expect(said[0]!.level).toBe(40); // warn: the first time, for everyone to see
  expect(said.slice(1).every((line) => line.level === 20)).toBe(true); // debug: the retries after it
  expect(worker.output()).not.toContain("hunter2");
  expect(worker.output()).not.toMatch(/\n\s+at /);

  worker.child.kill("SIGTERM");
  expect((await worker.exited).code).toBe(0); // stopped while starting: nothing was taken from the queue
});

it("without Redis: says once what to start while the connection keeps retrying", async () => {
  const port = await freePort();
  // ioredis's own debug output shows each reconnection attempt, so the test can wait for several.
  const worker = start({ DATABASE_URL: db.url, REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`, DEBUG: "ioredis:redis" });
  const plain = `cannot reach Redis at 127.0.0.1:${port} (connection refused) — start it (e.g. docker compose up -d redis); retrying until it answers`;
  await waitFor(() => worker.output().includes(plain), 30_000, "the plain line");
  const after = () => worker.output().slice(worker.output().indexOf(plain));
  await waitFor(() => count(after(), "(bull:") >= 6 && count(after(), "reconnecting -> connecting") >= 3, 30_000, "several reconnection attempts");

  worker.child.kill("SIGTERM");
  expect((await worker.exited).code).toBe(0);
  expect(count(worker.output(), plain)).toBe(1);
  const ours = worker.output().split("\n").filter((line) => line.startsWith("{"));
  expect(ours.filter((line) => (JSON.parse(line) as { level: number }).level >= 40)).toHaveLength(1); // nothing else alarming
  expect(worker.output()).not.toContain("hunter2");
  expect(worker.output()).not.toMatch(/\n\s+at /);
});
