// Targets 2 and 4, ingest and memory: events through LLMTracker.record() → Redis
// → the worker CLI (its own process, as deployed) → llm_tracker_usage, timed from
// the first record() until the last row is committed; beside the Postgres and
// BullMQ ceilings measured in the same run, Redis memory per queued event, the
// worker's peak RSS and the producer's peak buffer.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import postgres from "postgres";
import { configure, getTrackerSettings, resetConfiguration } from "../../src/config/settings.js";
import { insertUsageRows } from "../../workers/insert-usage-rows.js";
import { runMigrations } from "../../src/db/migrate.js";
import { getDefaultProducer, shutdown } from "../../src/usage/default-producer.js";
import { UsageProducer } from "../../src/usage/producer.js";
import { LLMTracker } from "../../src/usage/tracker.js";
import { TEST_REDIS_URL } from "../../test/support/services.js";
import { createTestDatabase } from "../../test/support/test-database.js";
import { obliterateQueue, testQueueName } from "../../test/support/test-queue.js";
import { benchRecord } from "../support/bench-event.js";
import { buildWorker } from "../support/build-worker.js";
import { deployedNodeArgs } from "../support/deployed-node-args.js";
import { spawnTs } from "../support/child-process.js";
import { fmt, verdict, type Row } from "../support/figures.js";
import { pushThroughProducer, RECORD_BURST, redisUsedMemory, yieldToProducer } from "../support/producer-fill.js";
import { sampleRss } from "../support/rss-sampler.js";
import type { BenchSection } from "../support/section.js";
import { benchEvents, rawInserter } from "../support/usage-rows.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";

const TS_CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const MEMORY_TRACE = fileURLToPath(new URL("../support/memory-trace.cjs", import.meta.url));
const NOOP_WORKER = fileURLToPath(new URL("../support/noop-worker-process.ts", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The worker's node flags: those it is deployed with (package.json start =
 * Dockerfile NODE_OPTIONS), or, for trying others, BENCH_WORKER_NODE_ARGS instead
 * (e.g. "--max-old-space-size=96").
 */
function workerNodeArgs(): string[] {
  const tried = process.env.BENCH_WORKER_NODE_ARGS;
  return tried === undefined ? deployedNodeArgs() : tried.split(" ").filter(Boolean);
}

const BATCH = Number(process.env.LLM_TRACKER_BATCH_SIZE ?? 2_000);

/** rows/s of raw postgres.js inserts (one connection, one statement at a time, BATCH rows each) into a plain table. */
async function postgresCeiling(total: number): Promise<{ raw: number; lean: number }> {
  const db = await createTestDatabase("llmt_bench");
  const sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    await runMigrations(db.url);
    await sql.unsafe("CREATE TABLE usage_ceiling (LIKE llm_tracker_usage INCLUDING ALL)");
    const rate = async (write: (events: UsageEvent[]) => Promise<unknown>) => {
      await write(benchEvents(BATCH, 10_000_000)); // warm-up: prepare, type lookups
      const batches = Array.from({ length: Math.ceil(total / BATCH) }, (_, b) => benchEvents(Math.min(BATCH, total - b * BATCH), b * BATCH));
      const start = performance.now();
      for (const events of batches) await write(events);
      return total / ((performance.now() - start) / 1000);
    };
    const raw = await rate(rawInserter(sql, "usage_ceiling"));
    // For the diagnosis: the worker's own statement into the real table (rollup triggers included).
    const lean = await rate((events) => insertUsageRows(sql, events));
    return { raw, lean };
  } finally {
    await sql.end();
    await db.drop();
  }
}

/**
 * Raw BullMQ with single-event jobs: addBulk of `total` jobs (1000 per call) into an
 * empty queue, then a no-op Worker (child process, concurrency 100) draining it; jobs/s of each.
 */
async function bullmqCeiling(total: number): Promise<{ add: number; drain: number }> {
  const queueName = testQueueName();
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  const events = benchEvents(1_000);
  let worker: ReturnType<typeof spawnTs> | undefined;
  try {
    await queue.waitUntilReady();
    const start = performance.now();
    for (let added = 0; added < total; added += events.length) {
      await queue.addBulk(events.map((event) => ({ name: "usage", data: { events: [event] }, opts: { removeOnComplete: true } })));
    }
    const add = total / ((performance.now() - start) / 1000);
    worker = spawnTs(NOOP_WORKER, [TEST_REDIS_URL, queueName, String(total), "100"]);
    const done = await worker.waitForLine(/^done /, 300_000);
    return { add, drain: total / Number(done.split(" ")[2]) };
  } finally {
    await worker?.stop();
    await queue.close();
    await obliterateQueue(queueName);
  }
}

/** Redis used_memory growth per event queued through the producer, with no worker running. */
async function redisBytesPerEvent(count: number, spoolDir: string): Promise<number> {
  const queueName = testQueueName();
  const redis = new Redis(TEST_REDIS_URL);
  const producer = new UsageProducer({ redisUrl: TEST_REDIS_URL, queueName, spoolDir, logger: pino({ level: "warn" }) });
  try {
    const events = benchEvents(count);
    const before = await redisUsedMemory(redis);
    await pushThroughProducer(producer, events, 10_000);
    return ((await redisUsedMemory(redis)) - before) / count;
  } finally {
    await producer.shutdown();
    redis.disconnect();
    await obliterateQueue(queueName);
  }
}

interface EndToEnd {
  rate: number;
  seconds: number;
  workerMaxRss: number;
  rssSamples: number;
  maxBuffered: number;
  spooled: number;
  bufferSize: number;
}

/** record() × total → Redis → `llm-tracker worker` child → table; timed until count(*) reaches total. */
async function endToEnd(total: number, spoolDir: string, cli: string): Promise<EndToEnd> {
  const db = await createTestDatabase("llmt_bench");
  const queueName = testQueueName();
  const sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  const profileDir = process.env.BENCH_WORKER_CPU_PROF;
  const worker = spawnTs(
    cli,
    ["worker"],
    { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_HTTP_PORT: "0", LLM_TRACKER_LOG_LEVEL: "info" },
    [
      ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      ...(process.env.BENCH_WORKER_MEMORY_TRACE ? ["--require", MEMORY_TRACE] : []),
      ...workerNodeArgs(),
    ],
  );
  let rss: ReturnType<typeof sampleRss> | undefined;
  try {
    await worker.waitForLine(/usage worker consuming/);
    rss = sampleRss(worker.child.pid!, 100);
    configure({
      REDIS_URL: TEST_REDIS_URL,
      LLM_TRACKER_QUEUE: queueName,
      LLM_TRACKER_SPOOL_DIR: spoolDir,
      LLM_TRACKER_HANDLE_SIGNALS: false,
      LLM_TRACKER_LOG_LEVEL: "warn",
    });
    const { bufferSize } = getTrackerSettings();
    const producer = getDefaultProducer();
    await producer.flush(); // the connection is made before the clock starts, as in a running application
    const inputs = Array.from({ length: 1_000 }, (_, i) => benchRecord(i));
    let maxBuffered = 0;

    const start = performance.now();
    for (let i = 0; i < total; i += 1) {
      LLMTracker.record(inputs[i % inputs.length]!);
      if (i % RECORD_BURST === RECORD_BURST - 1) {
        maxBuffered = Math.max(maxBuffered, producer.stats().buffered);
        await yieldToProducer(producer, bufferSize);
      }
    }
    maxBuffered = Math.max(maxBuffered, producer.stats().buffered);
    for (;;) {
      const [{ n }] = (await sql`SELECT count(*)::int AS n FROM llm_tracker_usage`) as unknown as [{ n: number }];
      if (n >= total) break;
      await sleep(20);
    }
    const seconds = (performance.now() - start) / 1000;
    rss.stop();
    if (process.env.BENCH_WORKER_MEMORY_TRACE) {
      const trace = worker.lines.filter((line) => line.startsWith("memory "));
      const peak = trace.reduce((best, line) => (Number(/rss=(\d+)/.exec(line)![1]) > Number(/rss=(\d+)/.exec(best)![1]) ? line : best), trace[0] ?? "memory rss=0");
      console.log(`worker memory at its RSS peak (MB): ${peak.slice("memory ".length)}`);
    }
    return { rate: total / seconds, seconds, workerMaxRss: rss.maxBytes, rssSamples: rss.samples, maxBuffered, spooled: producer.stats().spooled, bufferSize };
  } finally {
    rss?.stop();
    await shutdown();
    resetConfiguration();
    await worker.stop();
    await sql.end();
    await obliterateQueue(queueName);
    await db.drop();
  }
}

const ingest: BenchSection = {
  title: "ingest",
  async run({ quick }) {
    const total = quick ? 20_000 : 100_000;
    const spoolDir = await mkdtemp(join(tmpdir(), "llmt-bench-spool-"));
    try {
      const pg = await postgresCeiling(total);
      console.log(`postgres ceiling: raw insert into a plain table ${fmt.rate(pg.raw)} rows; worker's statement into llm_tracker_usage (rollup triggers) ${fmt.rate(pg.lean)} rows`);
      const bull = await bullmqCeiling(total);
      console.log(`bullmq ceiling, single-event jobs: addBulk ${fmt.rate(bull.add)}, no-op worker (concurrency 100) drains ${fmt.rate(bull.drain)}`);
      const bytes = await redisBytesPerEvent(quick ? 5_000 : 20_000, spoolDir);
      console.log(`redis: ${fmt.bytes(bytes)} per queued event (job size ${getTrackerSettings().jobSize})`);
      // As deployed: the compiled CLI (BENCH_WORKER=tsx runs src/ through tsx instead, whose loader thread adds ~50 MB RSS).
      const cli = process.env.BENCH_WORKER === "tsx" ? TS_CLI : await buildWorker();
      const how = process.env.BENCH_WORKER_NODE_ARGS === undefined ? "as deployed (package.json start = Dockerfile NODE_OPTIONS)" : "BENCH_WORKER_NODE_ARGS, not as deployed";
      console.log(`worker: node ${[...workerNodeArgs(), cli === TS_CLI ? "--import tsx src/cli/main.ts" : "dist/src/cli/main.js"].join(" ")} worker — ${how}`);
      const e2e = await endToEnd(total, spoolDir, cli);
      console.log(
        `end to end: ${total} events in ${e2e.seconds.toFixed(2)} s = ${fmt.rate(e2e.rate)}; worker max RSS ${fmt.mb(e2e.workerMaxRss)} (${e2e.rssSamples} samples); ` +
          `producer max buffered ${e2e.maxBuffered} (buffer size ${e2e.bufferSize}), spooled ${e2e.spooled}`,
      );
      const ratio = e2e.rate / pg.raw;
      return [
        { figure: `ingest end to end, record() → table (${total.toLocaleString("en-US")} events)`, value: fmt.rate(e2e.rate), baseline: `raw BullMQ: add ${fmt.rate(bull.add)}, drain ${fmt.rate(bull.drain)} jobs`, target: "≥ 30,000/s", verdict: verdict(e2e.rate >= 30_000) },
        { figure: "ingest ÷ raw Postgres insert ceiling", value: fmt.ratio(ratio), baseline: `raw insert ${fmt.rate(pg.raw)} rows`, target: "≥ 0.6", verdict: verdict(ratio >= 0.6) },
        { figure: "Redis memory per queued event", value: fmt.bytes(bytes), baseline: `job size ${getTrackerSettings().jobSize}`, target: "report", verdict: "" },
        { figure: "worker max RSS during ingest", value: fmt.mb(e2e.workerMaxRss), baseline: `${e2e.rssSamples} samples, 100 ms`, target: "≤ 200 MB", verdict: verdict(e2e.workerMaxRss <= 200 * 1024 * 1024) },
        { figure: "producer max buffered events during ingest", value: String(e2e.maxBuffered), baseline: `buffer size ${e2e.bufferSize}, ${e2e.spooled} spooled`, target: "≤ buffer size", verdict: verdict(e2e.maxBuffered <= e2e.bufferSize) },
      ];
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  },
};

export default ingest;
