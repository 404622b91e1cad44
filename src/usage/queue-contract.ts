// What travels on the BullMQ queue between producer and worker.
import type { UsageEvent } from "./usage-event.js";

/** Every job carries a group of events (see LLM_TRACKER_JOB_SIZE); grouping is what lets ingest keep up. */
export const USAGE_JOB_NAME = "usage";

export interface UsageJobData {
  events: UsageEvent[];
}
