// Test events in the queue's wire format, and a plain BullMQ producer for them
// (the worker tests do not depend on the library's producer).
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { USAGE_JOB_NAME } from "../../src/usage/queue-contract.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";
import { TEST_REDIS_URL } from "./services.js";

export function makeEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    v: 1,
    id: randomUUID(),
    created_at: "2025-03-04T05:06:07.123+00:00",
    provider: "openai",
    model: "gpt-4o-mini",
    deployment: null,
    prompt_tokens: 11,
    completion_tokens: 7,
    total_tokens: 18,
    cached_tokens: 3,
    reasoning_tokens: 2,
    usage_reported: true,
    success: true,
    error: null,
    latency_ms: 250,
    user_id: "user-1",
    metadata: { node_name: "interpret", source_type: "task" },
    streamed: false,
    time_to_first_token_ms: null,
    operation: "chat",
    ...overrides,
  };
}

/** Adds one job per group, as the producer does (job name, `{ events }`, removeOnComplete, keep failed). */
export async function addEventJobs(queueName: string, groups: unknown[][]): Promise<string[]> {
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    const jobs = await queue.addBulk(
      groups.map((events) => ({ name: USAGE_JOB_NAME, data: { events }, opts: { removeOnComplete: true, removeOnFail: false } })),
    );
    return jobs.map((job) => job.id!);
  } finally {
    await queue.close();
  }
}

/** `count` distinct events with the defaults above. */
export function usageEvents(count: number): UsageEvent[] {
  return Array.from({ length: count }, () => makeEvent());
}

export { waitFor } from "./wait-for.js";
