// The usage queue on a real Redis Cluster (three nodes started by this file):
// producer, worker process, metrics and `replay --failed` all find the queue
// under the hash-tagged LLM_TRACKER_QUEUE_PREFIX.
import { execFile, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, getTrackerSettings, resetConfiguration } from "../../src/config/settings.js";
import { ConfigError } from "../../src/errors/config-error.js";
import { flush, LLMTracker, shutdown } from "../../src/index.js";
import { runMigrations } from "../../src/db/migrate.js";
import { parseExposition, sampleValue, type Exposition } from "../ops/support/prometheus-text.js";
import { freePort } from "../support/free-port.js";
import { startRedisCluster, type RedisClusterProcess } from "../support/redis-cluster.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { testQueueName } from "../support/test-queue.js";
import { waitFor } from "../support/wait-for.js";
import { spawnWorker, type WorkerProcess } from "../workers/helpers/worker-process.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const EVENTS = 1_000;

let cluster: RedisClusterProcess;
let db: TestDatabase;
let sql: postgres.Sql;
let spoolDir: string;
let worker: WorkerProcess | undefined;
let httpPort: number;
const queueName = testQueueName();
const prefix = `{llmt-${randomUUID().slice(0, 8)}}`;

function clusterClient(): Cluster {
  const client = new Cluster([{ host: "127.0.0.1", port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: 1 } });
  client.on("error", () => {});
  return client;
}

function env(): Record<string, string> {
  return {
    REDIS_URL: cluster.url,
    LLM_TRACKER_REDIS_CLUSTER: "true",
    LLM_TRACKER_QUEUE_PREFIX: prefix,
    LLM_TRACKER_QUEUE: queueName,
    DATABASE_URL: db.url,
    LLM_TRACKER_SPOOL_DIR: spoolDir,
  };
}

async function withClusterQueue<T>(name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const client = clusterClient();
  const queue = new Queue(name, { connection: client, prefix });
  try {
    return await use(queue);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

const jobCounts = () => withClusterQueue(queueName, (queue) => queue.getJobCounts("waiting", "active", "failed"));

beforeAll(async () => {
  [cluster, db, spoolDir, httpPort] = await Promise.all([
    startRedisCluster(),
    createTestDatabase(),
    mkdtemp(join(tmpdir(), "llmt-cluster-spool-")),
    freePort(),
  ]);
  await runMigrations(db.url);
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await shutdown();
  resetConfiguration();
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill("SIGKILL");
    await worker.exited;
  }
  await sql?.end();
  await db?.drop();
  await cluster?.stop();
  if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
});

describe("the usage queue on a Redis Cluster", () => {
  it("refuses a prefix without a hash tag, which the cluster would refuse in every BullMQ script (CROSSSLOT)", async () => {
    configure({ REDIS_URL: cluster.url, LLM_TRACKER_REDIS_CLUSTER: true });
    expect(() => getTrackerSettings()).toThrow(ConfigError);
    expect(() => getTrackerSettings()).toThrow("LLM_TRACKER_QUEUE_PREFIX: needs a hash tag such as {llm-tracker} when LLM_TRACKER_REDIS_CLUSTER is true");
    resetConfiguration();

    // What the check prevents: BullMQ's default prefix spreads a queue's keys over slots.
    const client = clusterClient();
    const queue = new Queue(testQueueName(), { connection: client });
    queue.on("error", () => {});
    try {
      await expect(queue.add("usage", { events: [] })).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await queue.close();
      client.disconnect();
    }
  });

  it("carries recorded events through the cluster to Postgres with a worker process, and its metrics read the queue there", async () => {
    worker = spawnWorker({ ...env(), LLM_TRACKER_HTTP_PORT: String(httpPort), LLM_TRACKER_FLUSH_MS: "10" });
    configure({ ...env(), LLM_TRACKER_HANDLE_SIGNALS: false, LLM_TRACKER_LOG_LEVEL: "silent", LLM_TRACKER_REDIS_CLUSTER: true });
    for (let i = 0; i < EVENTS; i += 1) {
      LLMTracker.record({ usage: { model: "cluster-model", prompt_tokens: i, completion_tokens: 1 }, state: { user_id: `u${i % 7}` } });
    }
    await flush();
    await waitFor(async () => (await sql`SELECT count(*)::int AS n FROM llm_tracker_usage`)[0]!.n === EVENTS, 30_000, "every event in Postgres");
    const [sums] = await sql`SELECT sum(prompt_tokens)::int8 AS prompt, sum(completion_tokens)::int8 AS completion FROM llm_tracker_usage`;
    expect(Number(sums!.prompt)).toBe((EVENTS * (EVENTS - 1)) / 2);
    expect(Number(sums!.completion)).toBe(EVENTS);

    // The queue's keys are under the prefix, in the one slot its hash tag names.
    const client = clusterClient();
    try {
      expect(await client.exists(`${prefix}:${queueName}:meta`)).toBe(1);
      expect(await client.cluster("KEYSLOT", `${prefix}:${queueName}:meta`)).toBe(await client.cluster("KEYSLOT", prefix));
    } finally {
      client.disconnect();
    }

    const scrape = async () => parseExposition(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
    const scraped = (await waitFor(async () => {
      const exposition = await scrape().catch(() => undefined);
      return exposition && sampleValue(exposition, "llm_tracker_events_written_total") === EVENTS ? exposition : false;
    }, 20_000, "the worker's metrics to count every event")) as Exposition;
    expect(sampleValue(scraped, "llm_tracker_queue_up")).toBe(1);
    expect(sampleValue(scraped, "llm_tracker_queue_jobs", { state: "waiting" })).toBe(0);
  });

  it("llm-tracker replay --failed moves the cluster queue's failed jobs back to waiting", async () => {
    expect(worker, "the previous test started the worker").toBeDefined();
    // A job the worker refuses: failed, not retried.
    await withClusterQueue(queueName, (queue) => queue.add("not-usage", { events: [] }));
    await waitFor(async () => (await jobCounts()).failed === 1, 20_000, "the worker to fail the foreign job");
    worker!.child.kill("SIGTERM");
    expect(await worker!.exited).toEqual({ code: 0, signal: null });

    const replay = spawnSync(process.execPath, ["--import", "tsx", CLI, "replay", "--failed"], {
      env: { ...process.env, ...env(), LLM_TRACKER_LOG_LEVEL: "silent" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(replay.stderr).toBe("");
    expect(replay.stdout).toContain("1 failed jobs moved back to waiting");
    expect(replay.status).toBe(0);
    expect(await jobCounts()).toMatchObject({ waiting: 1, active: 0, failed: 0 });
  });

  it("lets a recording process whose work is done exit on its own, its events queued on the cluster", async () => {
    const childQueue = testQueueName();
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../usage/spool-child.ts", import.meta.url)), "6", "natural"], {
      env: { ...process.env, ...env(), LLM_TRACKER_QUEUE: childQueue, LLM_TRACKER_LOG_LEVEL: "silent" },
      timeout: 20_000, // a socket or timer that held the process open would fail the test here
    });
    const ids = JSON.parse(stdout.trim()) as string[];
    const queued = await withClusterQueue(childQueue, async (queue) =>
      (await queue.getJobs(["waiting"])).flatMap((job) => (job.data as { events: { id: string }[] }).events.map((event) => event.id)),
    );
    expect(queued.sort()).toEqual(ids.sort());
  });
});
