// Quick measurement (not a test): events/s from a pre-filled queue into the table
// through startUsageWorker, for a few batch sizes / flush intervals.
// Run: npx tsx bench/worker-throughput.ts [events=100000] [eventsPerJob=100]
import { pino } from "pino";
import postgres from "postgres";
import { runMigrations } from "../src/db/migrate.js";
import { startUsageWorker } from "../workers/usage-worker.js";
import { TEST_REDIS_URL } from "../test/support/services.js";
import { createTestDatabase } from "../test/support/test-database.js";
import { obliterateQueue, testQueueName } from "../test/support/test-queue.js";
import { addEventJobs, makeEvent } from "../test/support/usage-events.js";

const total = Number(process.argv[2] ?? 100_000);
const perJob = Number(process.argv[3] ?? 100);
const configs = [
  { batchSize: 500, flushMs: 50 },
  { batchSize: 2000, flushMs: 50 },
  { batchSize: 5000, flushMs: 50 },
];

for (const { batchSize, flushMs } of configs) {
  const db = await createTestDatabase("llmt_bench");
  await runMigrations(db.url);
  const queueName = testQueueName();
  for (let added = 0; added < total; added += 10_000) {
    await addEventJobs(queueName, Array.from({ length: 10_000 / perJob }, () => Array.from({ length: perJob }, () => makeEvent())));
  }
  const sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  let batches = 0;
  const start = performance.now();
  const worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, batchSize, flushMs, migrate: false,
    logger: pino({ level: "silent" }), observer: { batchWritten: () => (batches += 1) },
  });
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage`;
    if (row!.n >= total) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`batch ${batchSize} flush ${flushMs}ms, ${perJob} events/job: ${Math.round(total / seconds).toLocaleString("en")} events/s, ${Math.round(total / batches)} events/batch`);
  await worker.close();
  await sql.end();
  await obliterateQueue(queueName);
  await db.drop();
}
