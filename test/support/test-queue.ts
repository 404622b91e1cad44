// Each test owns its queue name, so tests never see each other's jobs.
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { TEST_REDIS_URL } from "./services.js";

export function testQueueName(): string {
  return `test-${randomUUID()}`;
}

/** Removes every key of the queue (jobs, events, metadata). */
export async function obliterateQueue(name: string): Promise<void> {
  const queue = new Queue(name, { connection: { url: TEST_REDIS_URL } });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}
