import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { createLogger } from "../../src/logger.js";
import { replaySpoolFiles, UsageProducer } from "../../src/usage/producer.js";
import { Spool } from "../../src/usage/spool.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { makeEvents } from "./make-event.js";
import { queuedEvents } from "./queued-events.js";
import { freePort, waitFor } from "./redis-process.js";

const run = promisify(execFile);
const logger = createLogger("silent");
let queueName: string;
let spoolDir: string;

beforeEach(async () => {
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-spool-"));
});

afterEach(async () => {
  await obliterateQueue(queueName);
  await rm(spoolDir, { recursive: true, force: true });
});

async function runChild(count: number, mode: "natural" | "exit"): Promise<string[]> {
  const port = await freePort();
  const { stdout } = await run(process.execPath, ["--import", "tsx", join(import.meta.dirname, "spool-child.ts"), String(count), mode], {
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_SPOOL_DIR: spoolDir, LLM_TRACKER_LOG_LEVEL: "silent" },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim()) as string[];
}

function sorted(ids: string[]): string[] {
  return [...ids].sort();
}

describe("events of a process that exits while Redis is unreachable", () => {
  it.each(["natural", "exit"] as const)("are spooled at exit (%s) and replayed exactly once by a later producer", async (mode) => {
    const ids = await runChild(8, mode);
    expect(ids).toHaveLength(8);
    expect((await readdir(spoolDir)).length).toBeGreaterThan(0);

    const later = new UsageProducer({ redisUrl: TEST_REDIS_URL, queueName, spoolDir, logger });
    try {
      await waitFor(() => later.stats().replayed === 8, 20_000, "the later producer to replay the spool");
    } finally {
      await later.shutdown();
    }
    const queued = (await queuedEvents(TEST_REDIS_URL, queueName)).map((e) => e.id);
    expect(sorted(queued)).toEqual(sorted(ids));
    expect(await readdir(spoolDir)).toEqual([]);
  });
});

describe("replaying the spool", () => {
  it("two concurrent replayers queue each spooled event exactly once", async () => {
    const events = makeEvents(400);
    // Ten sealed files of 40 events, as ten producers would leave them.
    for (let f = 0; f < 10; f++) {
      const spool = new Spool({ dir: spoolDir });
      await spool.append(events.slice(f * 40, f * 40 + 40));
      await spool.seal();
    }
    const queues = [0, 1].map(() => new Queue(queueName, { connection: { url: TEST_REDIS_URL } }));
    try {
      const results = await Promise.all(queues.map((queue) => replaySpoolFiles(new Spool({ dir: spoolDir }), queue, 25)));
      expect(results[0]!.replayed + results[1]!.replayed).toBe(400);
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
    }
    const queued = (await queuedEvents(TEST_REDIS_URL, queueName)).map((e) => e.id);
    expect(queued).toHaveLength(400);
    expect(sorted(queued)).toEqual(sorted(events.map((e) => e.id)));
  });

  it("a file claimed by a process that died is claimed again; a live writer's open file is left alone", async () => {
    const events = makeEvents(3);
    const live = new Spool({ dir: spoolDir });
    await live.append(events.slice(0, 1)); // open file of this (live) process
    const { stdout } = await run(process.execPath, ["-e", "console.log(process.pid)"]);
    const deadPid = Number(stdout.trim());
    const { writeFile } = await import("node:fs/promises");
    const { hostname } = await import("node:os");
    const line = (i: number) => `${JSON.stringify(events[i])}\n`;
    await writeFile(join(spoolDir, `replaying~${hostname()}~${deadPid}~00000000-0000-4000-8000-000000000001.jsonl`), line(1));
    await writeFile(join(spoolDir, `open~${hostname()}~${deadPid}~00000000-0000-4000-8000-000000000002.jsonl`), `${line(2)}{"torn":`);

    const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
    try {
      const result = await replaySpoolFiles(new Spool({ dir: spoolDir }), queue, 10);
      expect(result).toEqual({ files: 2, replayed: 2, badLines: 1 });
    } finally {
      await queue.close();
    }
    expect(sorted((await queuedEvents(TEST_REDIS_URL, queueName)).map((e) => e.id))).toEqual(sorted([events[1]!.id, events[2]!.id]));
    expect((await readdir(spoolDir)).every((name) => name.startsWith("open~"))).toBe(true);
    await live.close();
  });

  it("`llm-tracker replay` queues spooled events and --failed moves failed jobs back to waiting", async () => {
    const events = makeEvents(5);
    const spool = new Spool({ dir: spoolDir });
    await spool.append(events);
    await spool.seal();

    const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
    try {
      // One job the worker gave up on.
      const failedJob = await queue.add("usage", { events: [] }, { removeOnFail: false });
      const { Worker } = await import("bullmq");
      const worker = new Worker(queueName, async () => {
        throw new Error("poison");
      }, { connection: { url: TEST_REDIS_URL, maxRetriesPerRequest: null }, autorun: false });
      worker.on("error", () => {});
      const job = await worker.getNextJob("token");
      expect(job?.id).toBe(failedJob.id);
      await job!.moveToFailed(new Error("poison"), "token", false);
      await worker.close();
      expect(await queue.getJobCountByTypes("failed")).toBe(1);

      const previous = { ...process.env };
      Object.assign(process.env, { REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_SPOOL_DIR: spoolDir });
      const { resetConfiguration } = await import("../../src/config/settings.js");
      resetConfiguration();
      let code: number;
      try {
        code = await runCli(["replay", "--failed"]);
      } finally {
        process.env = previous;
        resetConfiguration();
      }
      expect(code).toBe(0);
      expect(await queue.getJobCountByTypes("failed")).toBe(0);
      const waiting = await queue.getWaiting();
      expect(waiting.map((j) => j.id)).toContain(failedJob.id);
      const queuedIds = waiting.flatMap((j) => (j.data as { events: { id: string }[] }).events.map((e) => e.id));
      expect(sorted(queuedIds)).toEqual(sorted(events.map((e) => e.id)));
      expect(await readdir(spoolDir)).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});
