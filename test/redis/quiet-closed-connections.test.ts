// A Queue or Worker closed while its connections are still starting must not
// leave an unhandled rejection behind (BullMQ 5, taskforcesh/bullmq#3546): it
// ended `llm-tracker worker` with exit code 1 when SIGTERM came right after start.
// Without quietClosedConnections the first test collects several "Connection is
// closed." rejections in its 20 rounds (checked when it was written).
import { Queue, Worker } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedisClient } from "../../src/redis/redis-client.js";
import { quietClosedConnections } from "../../src/redis/quiet-closed-connections.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { testQueueName } from "../support/test-queue.js";

const NOBODY_LISTENS = "redis://127.0.0.1:1";
const unhandled: unknown[] = [];
const collect = (reason: unknown) => unhandled.push(reason);

beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", collect);
});
afterEach(() => {
  process.off("unhandledRejection", collect);
});

/** Lets the closed connections' socket events and promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

/** Not in BullMQ's types: a Worker's blocking connection, a Queue's connection. */
type Starting = { once(event: "ready", listener: () => void): void };
/** Closes `owner` the moment its connection `which` has a ready Redis client. */
function closeWhenReady(owner: Queue | Worker, which: "connection" | "blockingConnection"): Promise<void> {
  const connection = (owner as unknown as Record<string, Starting>)[which]!;
  return new Promise((resolve) => connection.once("ready", () => resolve(owner.close())));
}

/**
 * Opens a Worker and a Queue and closes each the moment its Redis client is
 * ready — before BullMQ's start-up INFO has its answer, as a stop signal right
 * after start does.
 */
async function closeWhileStarting(): Promise<void> {
  for (let round = 0; round < 20; round += 1) {
    const redis = createRedisClient({ url: TEST_REDIS_URL }, { maxRetriesPerRequest: null });
    redis.on("error", () => {});
    const worker = new Worker(testQueueName(), async () => {}, { connection: redis, autorun: false });
    const queue = new Queue(testQueueName(), { connection: { url: TEST_REDIS_URL } });
    worker.on("error", () => {});
    queue.on("error", () => {});
    quietClosedConnections(worker);
    quietClosedConnections(queue);
    await Promise.all([closeWhenReady(worker, "blockingConnection"), closeWhenReady(queue, "connection")]);
    redis.disconnect();
  }
  await settle();
}

/** Closes a Worker and a Queue whose Redis never answers, while they still try to reach it. */
async function closeBeforeReaching(): Promise<void> {
  const redis = createRedisClient({ url: NOBODY_LISTENS }, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  const worker = new Worker(testQueueName(), async () => {}, { connection: redis, autorun: false });
  const queue = new Queue(testQueueName(), { connection: { url: NOBODY_LISTENS } });
  worker.on("error", () => {});
  queue.on("error", () => {});
  quietClosedConnections(worker);
  quietClosedConnections(queue);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await Promise.all([worker.close(), queue.close()]);
  redis.disconnect();
  await settle();
}

describe("quietClosedConnections", () => {
  it("leaves no unhandled rejection when a Worker and a Queue close while starting against a live Redis", async () => {
    await closeWhileStarting();
    expect(unhandled).toEqual([]);
  });

  it("leaves none when Redis was never reached", async () => {
    await closeBeforeReaching();
    expect(unhandled).toEqual([]);
  });
});
