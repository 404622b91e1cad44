// Puts events on a queue through the real producer (UsageProducer, as an
// application does) and reads Redis's used_memory, so sections can fill a queue
// with no worker running and say what the backlog costs in Redis.
import type { Redis } from "ioredis";
import type { UsageProducer } from "../../src/usage/producer.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";

const nextTick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Events handed over between two yields to the event loop. */
export const RECORD_BURST = 200;

/**
 * Lets the producer send, as a server does between requests; and, like a closed-loop
 * application, slows down rather than overrun the producer's buffer (which would spool).
 */
export async function yieldToProducer(producer: UsageProducer, bufferSize: number): Promise<void> {
  await nextTick();
  while (producer.stats().buffered > bufferSize / 2) await sleep(1);
}

/** Pushes every event, waits until all are queued; throws if any was spooled or lost instead. */
export async function pushThroughProducer(producer: UsageProducer, events: readonly UsageEvent[], bufferSize: number): Promise<void> {
  const queuedBefore = producer.stats().queued;
  for (let i = 0; i < events.length; i += 1) {
    producer.push(events[i]!);
    if (i % RECORD_BURST === RECORD_BURST - 1) await yieldToProducer(producer, bufferSize);
  }
  await producer.flush();
  const stats = producer.stats();
  if (stats.queued - queuedBefore !== events.length) throw new Error(`expected ${events.length} queued, producer says ${JSON.stringify(stats)}`);
}

/** Redis's used_memory (INFO memory), in bytes. */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
}
