// The producer in an application process (Node's default unhandled-rejection
// mode) while Redis restarts: a connection killed while connecting (at CLIENT
// SETINFO, at the INFO ready check), in the middle of addBulk's pipeline of job
// scripts, and after a send ran but before its reply came back, each followed
// by a second of refused connections. The process stays up, nothing is lost,
// and the worker writes every event once.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { startUsageWorker } from "../../workers/usage-worker.js";
import { fatalErrorReport, jsonLines, spawnScript } from "../support/script-process.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { startTcpProxy, type FaultPlan, type TcpProxy } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { waitFor } from "../support/wait-for.js";

const CHILD = fileURLToPath(new URL("./producer-fault-child.ts", import.meta.url));
const PLANS: FaultPlan[] = [
  { at: "redis-command", command: "CLIENT", refuseMs: 1_000 },
  { at: "redis-command", command: "INFO", refuseMs: 1_000 },
  { at: "redis-mid-pipeline", refuseMs: 1_000 },
  { at: "redis-reply-lost", refuseMs: 1_000 },
];
const queueName = testQueueName();
let spoolDir: string;
let proxy: TcpProxy;
let database: TestDatabase;

beforeAll(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-fault-spool-"));
  database = await createTestDatabase();
  await runMigrations(database.url);
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy(Number(target.port || 6379), target.hostname, { protocol: "redis" });
});

afterAll(async () => {
  await proxy?.close();
  await obliterateQueue(queueName);
  await rm(spoolDir, { recursive: true, force: true });
  await database?.drop();
});

it("stays up through a cut while connecting, mid-addBulk and with a lost reply; the worker then writes every event once", async () => {
  proxy.arm(...PLANS);
  const viaProxy = new URL(TEST_REDIS_URL);
  viaProxy.port = String(proxy.port);
  const child = spawnScript(
    CHILD,
    [],
    { REDIS_URL: viaProxy.toString(), LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_SPOOL_DIR: spoolDir, LLM_TRACKER_LOG_LEVEL: "warn" },
    { stdin: true },
  );
  const running = () => {
    if (child.gone) throw new Error(`the producer's process ended early:\n${child.output().slice(-3000)}`);
    return true;
  };
  // The child records rounds of events until every planned cut has happened, Redis
  // is back, and what was spooled meanwhile has been replayed.
  await waitFor(() => running() && proxy.pendingPlans === 0, 45_000, "every planned cut");
  await proxy.settled();
  await waitFor(async () => running() && (await readdir(spoolDir)).length === 0, 30_000, "the spool replayed");
  child.child.stdin!.end("stop\n");
  const exit = await child.exited;
  const output = child.output();
  expect(fatalErrorReport(output), `the producer's process died:\n${output.slice(-3000)}`).toBeUndefined();
  expect(exit, output.slice(-3000)).toEqual({ code: 0, signal: null });
  expect(proxy.faults).toEqual(PLANS.map((plan) => plan.at));
  const done = jsonLines<{ done?: boolean; ids?: string[] }>(output).at(-1)!;
  expect(done.done).toBe(true);
  const ids = done.ids!;
  expect(ids.length).toBeGreaterThanOrEqual(PLANS.length * 150);

  // Everything reached the queue (a retried send may have queued a group twice); the worker writes each event once.
  const worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL,
    databaseUrl: database.url,
    queueName,
    batchSize: 2_000,
    flushMs: 20,
    migrate: false,
    rollupCompactMs: 0,
    logger: pino({ level: "silent" }),
  });
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const rows = async () => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage`)[0]!.n;
    await waitFor(async () => (await rows()) >= ids.length, 30_000, "every event written");
    const [found] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage WHERE id IN ${sql(ids)}`;
    expect({ rows: await rows(), found: found!.n }).toEqual({ rows: ids.length, found: ids.length });
  } finally {
    await sql.end();
    await worker.close();
  }
});
