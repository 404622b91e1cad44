// Valid usage events in the real contract shape, for queue jobs in ops tests and measurements.
import { randomUUID } from "node:crypto";
import { USAGE_EVENT_VERSION, usageEventSchema, type UsageEvent } from "../../../src/usage/usage-event.js";

/** One realistic event (a successful OpenAI call from a task), checked against the contract. */
export function usageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return usageEventSchema.parse({
    v: USAGE_EVENT_VERSION,
    id: randomUUID(),
    created_at: new Date().toISOString(),
    provider: "openai",
    model: "gpt-4o-mini-2024-07-18",
    deployment: null,
    prompt_tokens: 1_234,
    completion_tokens: 321,
    total_tokens: 1_555,
    cached_tokens: 1_024,
    reasoning_tokens: 0,
    usage_reported: true,
    success: true,
    error: null,
    latency_ms: 842,
    user_id: "user-8f14e45f",
    metadata: {
      node_name: "interpret",
      source_type: "task",
      source_task_id: randomUUID(),
      source_path: "/api/v1/reports/generate",
    },
    ...overrides,
  });
}

export function usageEvents(count: number): UsageEvent[] {
  return Array.from({ length: count }, () => usageEvent());
}
