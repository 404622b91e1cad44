// What every integration test file sets up: the fake provider, its own database and queue,
// the real usage worker writing rows, and the library configured to send events there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { expect } from "vitest";
import { configure, flush, shutdown, type SettingsInput } from "../../../src/index.js";
import { resetConfiguration } from "../../../src/config/settings.js";
import { createLogger } from "../../../src/logger.js";
import { startUsageWorker, type UsageWorkerHandle } from "../../../workers/usage-worker.js";
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from "../../fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../../support/services.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { obliterateQueue, testQueueName } from "../../support/test-queue.js";
import { waitFor } from "../../support/wait-for.js";

export interface Harness {
  fake: FakeProvider;
  sql: postgres.Sql;
  /** Applies the queue settings plus `extra` (a provider, for callAndTrack). */
  configure(extra?: SettingsInput): void;
  /** The queue settings plus `extra`, for a child process to configure() with. */
  settings(extra?: SettingsInput): SettingsInput;
  /** The rows of a node, once `count` of them are written (fails if more appear by then). */
  rowsOf(nodeName: string, count?: number): Promise<postgres.Row[]>;
  /** The one row of a node. */
  rowOf(nodeName: string): Promise<postgres.Row>;
  close(): Promise<void>;
}

export async function startHarness(fakeOptions: FakeProviderOptions = {}): Promise<Harness> {
  const fake = await startFakeProvider(fakeOptions);
  const db: TestDatabase = await createTestDatabase();
  const queueName = testQueueName();
  const spoolDir = await mkdtemp(join(tmpdir(), "llmt-wrap-spool-"));
  const worker: UsageWorkerHandle = await startUsageWorker({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, batchSize: 100, flushMs: 10, logger: createLogger("silent") });
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const settings = (extra: SettingsInput = {}): SettingsInput => ({
    REDIS_URL: TEST_REDIS_URL,
    LLM_TRACKER_QUEUE: queueName,
    LLM_TRACKER_SPOOL_DIR: spoolDir,
    LLM_TRACKER_HANDLE_SIGNALS: false,
    LLM_TRACKER_LOG_LEVEL: "silent",
    ...extra,
  });
  configure(settings());

  const rowsOf = async (nodeName: string, count = 1) => {
    await flush();
    let rows: postgres.Row[] = [];
    await waitFor(async () => (rows = await sql`select * from llm_tracker_usage where metadata->>'node_name' = ${nodeName} order by created_at`).length >= count, 20_000, `${count} row(s) of ${nodeName}`);
    // Anything handed over by now is on the queue; one more look catches a second event for the same call.
    await flush();
    rows = await sql`select * from llm_tracker_usage where metadata->>'node_name' = ${nodeName} order by created_at`;
    expect(rows).toHaveLength(count);
    return rows;
  };

  return {
    fake,
    sql,
    configure: (extra) => configure(settings(extra)),
    settings,
    rowsOf,
    rowOf: async (nodeName) => (await rowsOf(nodeName, 1))[0]!,
    async close() {
      await shutdown();
      resetConfiguration();
      await worker.close();
      await sql.end();
      await db.drop();
      await obliterateQueue(queueName);
      await fake.close();
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

/** Collects unhandled rejections while a file runs, so each test can assert there were none. */
export function watchUnhandled(): { list: unknown[]; stop(): void } {
  const list: unknown[] = [];
  const onUnhandled = (reason: unknown) => list.push(reason);
  process.on("unhandledRejection", onUnhandled);
  return { list, stop: () => process.off("unhandledRejection", onUnhandled) };
}
