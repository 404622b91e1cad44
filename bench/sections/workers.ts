// Several workers on one queue: the same backlog, queued through the real
// producer with no worker running, drained into a fresh database by one worker
// process (the baseline) and by two, alternating over a few rounds in the same
// run. Each worker is the compiled CLI as deployed. Also measured while the
// queue fills: Redis memory per queued event; and during each drain: the CPU
// the workers and Postgres spent per event. After every drain the table must
// hold each event exactly once (the section throws otherwise).
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import postgres from "postgres";
import { runMigrations } from "../../src/db/migrate.js";
import { UsageProducer } from "../../src/usage/producer.js";
import { TEST_REDIS_URL } from "../../test/support/services.js";
import { createTestDatabase } from "../../test/support/test-database.js";
import { obliterateQueue, testQueueName } from "../../test/support/test-queue.js";
import { buildWorker } from "../support/build-worker.js";
import { spawnTs, type BenchChild } from "../support/child-process.js";
import { deployedNodeArgs } from "../support/deployed-node-args.js";
import { fmt, median, type Row } from "../support/figures.js";
import { pushThroughProducer, redisUsedMemory } from "../support/producer-fill.js";
import type { BenchSection } from "../support/section.js";
import { benchEvents } from "../support/usage-rows.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Events generated and pushed at a time (keeps the bench's own heap small). */
const FILL_CHUNK = 10_000;
const PRODUCER_BUFFER = 10_000;
/** Jobs not yet done: while any is in one of these states, the drain goes on. */
const UNFINISHED = ["wait", "paused", "active", "delayed", "prioritized", "waiting-children"] as const;
const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** utime + stime of a process in seconds, or undefined once it has exited. */
async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd (state) on
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds of every `postgres` process on the machine (backends, WAL writer, autovacuum…), by pid. */
async function postgresCpu(): Promise<Map<number, number>> {
  const byPid = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, "utf8").catch(() => "");
    if (comm.trim() !== "postgres") continue;
    const seconds = await cpuSeconds(Number(entry));
    if (seconds !== undefined) byPid.set(Number(entry), seconds);
  }
  return byPid;
}

/** CPU Postgres spent between two readings (processes started in between count from zero; ones gone by the end are missed). */
function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Sums the events' prompt tokens, to check the table's total against. */
function promptTokens(events: readonly { prompt_tokens: number }[]): number {
  return events.reduce((sum, event) => sum + event.prompt_tokens, 0);
}

interface Drain {
  workers: number;
  rate: number;
  seconds: number;
  redisBytesPerEvent: number;
  workerCpuMicrosPerEvent: number;
  postgresCpuMicrosPerEvent: number;
}

/** Queues `total` events (queue paused), starts `workers` worker processes, then times from resume until no job is left. */
async function drain(cli: string, workers: number, total: number, spoolDir: string): Promise<Drain> {
  const db = await createTestDatabase("llmt_bench_workers");
  const queueName = testQueueName();
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  const redis = new Redis(TEST_REDIS_URL);
  const sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  const children: BenchChild[] = [];
  try {
    await runMigrations(db.url); // the workers' own migration pass is then a no-op, so they start alike
    // Paused, so no worker takes a job before all of them are up and the clock starts.
    await queue.pause();

    const producer = new UsageProducer({ redisUrl: TEST_REDIS_URL, queueName, spoolDir, bufferSize: PRODUCER_BUFFER, logger: pino({ level: "warn" }) });
    let expectedPromptTokens = 0;
    const memoryBefore = await redisUsedMemory(redis);
    try {
      for (let offset = 0; offset < total; offset += FILL_CHUNK) {
        const events = benchEvents(Math.min(FILL_CHUNK, total - offset), offset);
        expectedPromptTokens += promptTokens(events);
        await pushThroughProducer(producer, events, PRODUCER_BUFFER);
      }
    } finally {
      await producer.shutdown();
    }
    const redisBytesPerEvent = ((await redisUsedMemory(redis)) - memoryBefore) / total;

    for (let i = 0; i < workers; i += 1) {
      children.push(
        spawnTs(cli, ["worker"], { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_HTTP_PORT: "0", LLM_TRACKER_LOG_LEVEL: "info" }, deployedNodeArgs()),
      );
    }
    await Promise.all(children.map((child) => child.waitForLine(/usage worker consuming/)));

    const workerCpuBefore = await Promise.all(children.map((child) => cpuSeconds(child.child.pid!)));
    const postgresBefore = await postgresCpu();
    const start = performance.now();
    await queue.resume();
    for (;;) {
      const counts = await queue.getJobCounts(...UNFINISHED);
      if (UNFINISHED.every((state) => counts[state] === 0)) break;
      const exited = children.find((child) => child.child.exitCode !== null || child.child.signalCode !== null);
      if (exited) throw new Error(`a worker exited during the drain:\n${exited.lines.slice(-10).join("\n")}`);
      await sleep(25);
    }
    const seconds = (performance.now() - start) / 1000;
    const workerCpuAfter = await Promise.all(children.map((child) => cpuSeconds(child.child.pid!)));
    const postgresSeconds = postgresCpuBetween(postgresBefore, await postgresCpu());
    const workerSeconds = workerCpuAfter.reduce<number>((sum, after, i) => sum + (after! - workerCpuBefore[i]!), 0);

    // Every event exactly once: none missing, none doubled, no job failed, the rollup agrees.
    const { failed } = await queue.getJobCounts("failed");
    const [table] = await sql<{ rows: number; ids: number; prompt: string }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, coalesce(sum(prompt_tokens), 0)::text AS prompt FROM llm_tracker_usage`;
    const [rollup] = await sql<{ calls: string }[]>`
      SELECT coalesce(sum(calls), 0)::text AS calls FROM llm_tracker_usage_rollup WHERE grain = 'day' AND dimension = 'total'`;
    const found = { failed, rows: table!.rows, ids: table!.ids, promptTokens: Number(table!.prompt), rollupCalls: Number(rollup!.calls) };
    const expected = { failed: 0, rows: total, ids: total, promptTokens: expectedPromptTokens, rollupCalls: total };
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      throw new Error(`${workers} worker(s) drained ${total} events wrongly: expected ${JSON.stringify(expected)}, found ${JSON.stringify(found)}`);
    }
    return {
      workers,
      rate: total / seconds,
      seconds,
      redisBytesPerEvent,
      workerCpuMicrosPerEvent: (workerSeconds / total) * 1e6,
      postgresCpuMicrosPerEvent: (postgresSeconds / total) * 1e6,
    };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await sql.end();
    redis.disconnect();
    await queue.close();
    await obliterateQueue(queueName);
    await db.drop();
  }
}

const section: BenchSection = {
  title: "Several workers on one queue (two worker processes vs one, same backlog, same run)",
  async run({ quick }) {
    const total = quick ? 20_000 : 200_000;
    const rounds = quick ? 1 : 3;
    const cli = await buildWorker();
    const spoolDir = await mkdtemp(join(tmpdir(), "llmt-bench-workers-spool-"));
    const drains: Drain[] = [];
    try {
      console.log(`worker: node ${[...deployedNodeArgs(), "dist/src/cli/main.js"].join(" ")} worker (as deployed), defaults (batch 2,000, job size 100)`);
      for (let round = 0; round < rounds; round += 1) {
        // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
        for (const workers of round % 2 === 0 ? [1, 2] : [2, 1]) {
          const result = await drain(cli, workers, total, spoolDir);
          drains.push(result);
          console.log(
            `round ${round + 1}: ${workers} worker(s) drained ${total.toLocaleString("en-US")} events in ${result.seconds.toFixed(2)} s = ${fmt.rate(result.rate)}, exact; ` +
              `worker CPU ${result.workerCpuMicrosPerEvent.toFixed(1)} µs/event, Postgres CPU ${result.postgresCpuMicrosPerEvent.toFixed(1)} µs/event; ` +
              `Redis ${fmt.bytes(result.redisBytesPerEvent)} per queued event; load average ${loadavg()[0]!.toFixed(2)}`,
          );
        }
      }
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
    const of = (workers: number, pick: (d: Drain) => number) => median(drains.filter((d) => d.workers === workers).map(pick));
    const one = of(1, (d) => d.rate);
    const two = of(2, (d) => d.rate);
    const size = total.toLocaleString("en-US");
    const medianOf = `median of ${rounds}`;
    return [
      { figure: `one worker draining ${size} queued events into an empty table (${medianOf})`, value: fmt.rate(one), baseline: "-", target: "report", verdict: "" },
      {
        figure: `two workers on the same queue, same backlog (${medianOf})`,
        value: fmt.rate(two),
        baseline: `one worker ${fmt.rate(one)} (×${fmt.ratio(two / one)})`,
        target: "report (2 cores shared with Postgres)",
        verdict: "",
      },
      {
        figure: "Node CPU per event in the workers (all of them)",
        value: `${of(1, (d) => d.workerCpuMicrosPerEvent).toFixed(1)} µs (one worker)`,
        baseline: `${of(2, (d) => d.workerCpuMicrosPerEvent).toFixed(1)} µs (two workers)`,
        target: "report",
        verdict: "",
      },
      {
        figure: "Postgres CPU per row (every postgres process)",
        value: `${of(1, (d) => d.postgresCpuMicrosPerEvent).toFixed(1)} µs (one worker)`,
        baseline: `${of(2, (d) => d.postgresCpuMicrosPerEvent).toFixed(1)} µs (two workers)`,
        target: "report",
        verdict: "",
      },
      {
        figure: `Redis memory per queued event (${size} events, job size 100, no worker)`,
        value: fmt.bytes(median(drains.map((d) => d.redisBytesPerEvent))),
        baseline: `median of ${drains.length} fills`,
        target: "report",
        verdict: "",
      },
    ];
  },
};

export default section;
