import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { USAGE_JOB_NAME } from "../../src/usage/queue-contract.js";
import { UsageProducer } from "../../src/usage/producer.js";
import { createLogger } from "../../src/logger.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { makeEvent, makeEvents } from "./make-event.js";
import { queuedEvents, queuedJobs } from "./queued-events.js";
import { freePort, startRedis, stopRedis, waitFor } from "./redis-process.js";

const logger = createLogger("silent");
let queueName: string;
let spoolDir: string;
const producers: UsageProducer[] = [];
const extraRedisPorts: number[] = [];

function producer(options: Partial<ConstructorParameters<typeof UsageProducer>[0]> = {}): UsageProducer {
  const p = new UsageProducer({ redisUrl: TEST_REDIS_URL, queueName, spoolDir, logger, ...options });
  producers.push(p);
  return p;
}

beforeEach(async () => {
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-spool-"));
});

afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.shutdown()));
  await Promise.all(extraRedisPorts.splice(0).map(stopRedis));
  await obliterateQueue(queueName);
  await rm(spoolDir, { recursive: true, force: true });
});

describe("UsageProducer with Redis up", () => {
  it("queues handed-over events as jobs of up to jobSize events, with failed jobs kept and attempts set", async () => {
    const p = producer({ jobSize: 10 });
    const events = makeEvents(25);
    for (const event of events) p.push(event);
    await p.flush();

    const jobs = await queuedJobs(TEST_REDIS_URL, queueName);
    expect(jobs.map((job) => job.data.events.length).sort((a, b) => a - b)).toEqual([5, 10, 10]);
    for (const job of jobs) {
      expect(job.name).toBe(USAGE_JOB_NAME);
      expect(job.opts.removeOnComplete).toBe(true);
      expect(job.opts.removeOnFail).toBe(false);
      expect(job.opts.attempts).toBeGreaterThan(1);
    }
    const ids = jobs.flatMap((job) => job.data.events.map((e) => e.id));
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
    expect(p.stats()).toEqual({ buffered: 0, queued: 25, spooled: 0, replayed: 0, lost: 0 });
  });

  it("queues a lone event without anyone calling flush()", async () => {
    const p = producer();
    const event = makeEvent();
    p.push(event);
    await waitFor(async () => (await queuedEvents(TEST_REDIS_URL, queueName)).length === 1, 10_000, "the event to be queued");
    expect((await queuedEvents(TEST_REDIS_URL, queueName))[0]).toEqual(event);
  });

  it("flush() resolves at once when nothing was handed over", async () => {
    await expect(producer().flush()).resolves.toBeUndefined();
  });

  it("shutdown() is idempotent and a push after it goes to the spool", async () => {
    const p = producer();
    p.push(makeEvent());
    const first = p.shutdown();
    expect(p.shutdown()).toBe(first);
    await first;
    p.push(makeEvent());
    await p.flush();
    expect(p.stats()).toMatchObject({ queued: 1, spooled: 1, buffered: 0, lost: 0 });
  });
});

describe("UsageProducer while Redis is unreachable", () => {
  it("push() returns at once, keeps the events, and delivers them once Redis comes up", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const p = producer({ redisUrl, maxRetryDelayMs: 200 });
    const events = makeEvents(30);
    for (const event of events) p.push(event);
    expect(p.stats()).toMatchObject({ buffered: 30, queued: 0 });

    await startRedis(port);
    extraRedisPorts.push(port);
    await waitFor(() => p.stats().queued === 30, 20_000, "delivery after Redis started");
    const ids = (await queuedEvents(redisUrl, queueName)).map((e) => e.id).sort();
    expect(ids).toEqual(events.map((e) => e.id).sort());
    expect(p.stats()).toMatchObject({ buffered: 0, spooled: 0, lost: 0 });
  });

  it("flush() spools what Redis can not take, and the spool is replayed exactly once when Redis is back", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const p = producer({ redisUrl, maxRetryDelayMs: 200 });
    const events = makeEvents(12);
    for (const event of events) p.push(event);
    await p.flush();
    expect(p.stats()).toMatchObject({ buffered: 0, spooled: 12, queued: 0 });

    await startRedis(port);
    extraRedisPorts.push(port);
    await waitFor(() => p.stats().replayed === 12, 20_000, "replay of the spool");
    const ids = (await queuedEvents(redisUrl, queueName)).map((e) => e.id).sort();
    expect(ids).toEqual(events.map((e) => e.id).sort());
    await waitFor(async () => (await readdir(spoolDir)).length === 0, 5_000, "the replayed spool file to be deleted");
  });

  it("a full buffer spills to the spool instead of growing, and nothing is lost", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const p = producer({ redisUrl, bufferSize: 5, maxRetryDelayMs: 200 });
    const events = makeEvents(23);
    for (const event of events) p.push(event);
    expect(p.stats().buffered).toBeLessThanOrEqual(23);
    await waitFor(() => p.stats().spooled === 20, 5_000, "four spills of five events");
    expect(p.stats()).toMatchObject({ buffered: 3, lost: 0 });

    await startRedis(port);
    extraRedisPorts.push(port);
    await waitFor(() => p.stats().queued + p.stats().replayed === 23, 20_000, "delivery of buffered and spooled events");
    const ids = (await queuedEvents(redisUrl, queueName)).map((e) => e.id).sort();
    expect(ids).toEqual(events.map((e) => e.id).sort());
  });

  it("shutdown() with Redis still away spools everything and resolves", async () => {
    const port = await freePort();
    const p = producer({ redisUrl: `redis://127.0.0.1:${port}` });
    for (const event of makeEvents(7)) p.push(event);
    await p.shutdown();
    expect(p.stats()).toMatchObject({ buffered: 0, spooled: 7, lost: 0 });
    const files = await readdir(spoolDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^ready~/);
  });

  it("a spool write that fails counts the events as lost instead of dropping them silently", async () => {
    const port = await freePort();
    // A spool "directory" under a regular file can not be created.
    const p = producer({ redisUrl: `redis://127.0.0.1:${port}`, spoolDir: join("/dev/null", "spool") });
    p.push(makeEvent());
    await p.flush();
    expect(p.stats()).toMatchObject({ buffered: 0, spooled: 0, lost: 1 });
  });
});
