// `llm-tracker worker` serves /healthz and /metrics on LLM_TRACKER_HTTP_PORT,
// and its counters follow the rows it writes.
import { afterAll, beforeAll, expect, it } from "vitest";
import { runMigrations } from "../../../src/db/migrate.js";
import { parseExposition, sampleValue } from "../../ops/support/prometheus-text.js";
import { freePort } from "../../support/free-port.js";
import { TEST_REDIS_URL } from "../../support/services.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { obliterateQueue, testQueueName } from "../../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../../support/usage-events.js";
import { spawnWorker, type WorkerProcess } from "../../workers/helpers/worker-process.js";

let db: TestDatabase;
let worker: WorkerProcess | undefined;
const queueName = testQueueName();

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.url);
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
  await obliterateQueue(queueName);
  await db?.drop();
});

it("answers /healthz and counts written events in /metrics", async () => {
  const port = await freePort(); // free now; the worker binds it
  worker = spawnWorker({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_HTTP_PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;

  const health = await waitFor(async () => {
    const response = await fetch(`${base}/healthz`).catch(() => undefined);
    return response?.status === 200 ? ((await response.json()) as unknown) : undefined;
  }, 30_000, "/healthz 200");
  expect(JSON.stringify(health)).not.toContain("postgres://");

  await addEventJobs(queueName, [Array.from({ length: 120 }, () => makeEvent()), Array.from({ length: 80 }, () => makeEvent())]);
  const written = await waitFor(async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = sampleValue(parseExposition(text), "llm_tracker_events_written_total");
    return value === 200 ? value : undefined;
  }, 30_000, "200 events written");
  expect(written).toBe(200);

  worker.child.kill("SIGTERM");
  expect((await worker.exited).code).toBe(0);
});
