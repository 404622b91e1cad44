// Reads back what the producer queued: every job of a queue and the events they carry.
import { Queue, type Job } from "bullmq";
import type { UsageJobData } from "../../src/usage/queue-contract.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";

export async function queuedJobs(redisUrl: string, queueName: string): Promise<Job<UsageJobData>[]> {
  const queue = new Queue<UsageJobData>(queueName, { connection: { url: redisUrl } });
  try {
    return await queue.getJobs(["waiting", "active", "delayed", "failed", "completed", "prioritized"]);
  } finally {
    await queue.close();
  }
}

export async function queuedEvents(redisUrl: string, queueName: string): Promise<UsageEvent[]> {
  return (await queuedJobs(redisUrl, queueName)).flatMap((job) => job.data.events);
}
