// The worker's peak memory while it drains a backlog, started the ways people
// start it: `llm-tracker worker` with no node flags (npx, a bare `node
// main.js worker`) and with the deployed heap flag (`npm start`, the Docker
// image). Usage: npx tsx bench/worker-backlog-memory.ts [events=300000]
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import postgres from "postgres";
import { buildUsageEvent } from "../src/usage/build-event.js";
import { parseRecordInput } from "../src/usage/record-input.js";
import { USAGE_JOB_NAME } from "../src/usage/queue-contract.js";
import { createTestDatabase } from "../test/support/test-database.js";
import { TEST_REDIS_URL } from "../test/support/services.js";
import { benchRecord } from "./support/bench-event.js";
import { buildWorker } from "./support/build-worker.js";
import { spawnTs } from "./support/child-process.js";
import { deployedNodeArgs } from "./support/deployed-node-args.js";
import { sampleRss } from "./support/rss-sampler.js";

const EVENTS = Number(process.argv[2] ?? 300_000);
const EVENTS_PER_JOB = 100;

async function fillQueue(queueName: string): Promise<void> {
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    for (let start = 0; start < EVENTS; start += 100 * EVENTS_PER_JOB) {
      const jobs = [];
      for (let j = start; j < Math.min(EVENTS, start + 100 * EVENTS_PER_JOB); j += EVENTS_PER_JOB) {
        const events = Array.from({ length: Math.min(EVENTS_PER_JOB, EVENTS - j) }, (_, k) =>
          buildUsageEvent({ ...parseRecordInput(benchRecord(j + k), () => undefined) }),
        );
        jobs.push({ name: USAGE_JOB_NAME, data: { events }, opts: { removeOnComplete: true, removeOnFail: false } });
      }
      await queue.addBulk(jobs);
    }
  } finally {
    await queue.close();
  }
}

async function drain(cli: string, nodeArgs: string[], label: string): Promise<void> {
  const queueName = `bench-backlog-${randomUUID()}`;
  const database = await createTestDatabase("llmt_bench_backlog");
  try {
    await fillQueue(queueName);
    const started = performance.now();
    const worker = spawnTs(cli, ["worker"], {
      DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_HTTP_PORT: "0", LLM_TRACKER_LOG_LEVEL: "info",
    }, nodeArgs);
    const rss = sampleRss(worker.child.pid!, 50);
    const sql = postgres(database.url, { max: 1, onnotice: () => {}, fetch_types: false });
    try {
      for (;;) {
        const [row] = await sql`SELECT count(*)::int AS n FROM llm_tracker_usage`.catch(() => [{ n: 0 }]);
        if ((row?.n as number) >= EVENTS) break;
        if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.lines.slice(-10).join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`${label.padEnd(46)} peak RSS ${(rss.maxBytes / 2 ** 20).toFixed(0)} MB (${rss.samples} samples), drained ${EVENTS} events in ${seconds.toFixed(1)} s`);
    } finally {
      rss.stop();
      await worker.stop();
      await sql.end();
    }
  } finally {
    const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await database.drop();
  }
}

const cli = await buildWorker();
await drain(cli, [], "node dist/src/cli/main.js worker (no flags)");
await drain(cli, deployedNodeArgs(), `node ${deployedNodeArgs().join(" ")} … worker`);
process.exit(0);
