// Turns usage events into BullMQ jobs: groups of up to `jobSize` events, each
// with a job id derived from its event ids so a re-sent group is not queued twice.
import { createHash } from "node:crypto";
import type { JobsOptions } from "bullmq";
import { USAGE_JOB_NAME, type UsageJobData } from "./queue-contract.js";
import type { UsageEvent } from "./usage-event.js";

/** Failed jobs stay in the queue (removeOnFail: false) so they can be inspected and retried with `llm-tracker replay --failed`. */
export const USAGE_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: false,
  attempts: 10,
  backoff: { type: "exponential", delay: 1_000 },
} as const satisfies JobsOptions;

export interface UsageJob {
  name: typeof USAGE_JOB_NAME;
  data: UsageJobData;
  opts: JobsOptions & { jobId: string };
}

/**
 * One job for one group of events. The id is a hash of the event ids: a send that
 * timed out but reached Redis, then is retried, finds the job already there and
 * BullMQ keeps one copy (while that job is still waiting or failed).
 */
export function usageJob(events: UsageEvent[]): UsageJob {
  const hash = createHash("sha1");
  for (const event of events) hash.update(event.id);
  return { name: USAGE_JOB_NAME, data: { events }, opts: { ...USAGE_JOB_OPTIONS, jobId: `u-${hash.digest("hex")}` } };
}

/** Cuts events into consecutive groups of at most `jobSize`, in order. */
export function groupEvents(events: readonly UsageEvent[], jobSize: number): UsageEvent[][] {
  const groups: UsageEvent[][] = [];
  for (let start = 0; start < events.length; start += jobSize) groups.push(events.slice(start, start + jobSize));
  return groups;
}
