// Usage events for producer and spool tests.
import { buildUsageEvent } from "../../src/usage/build-event.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";

export function makeEvent(n = 1): UsageEvent {
  return buildUsageEvent({
    createdAt: new Date(),
    latencyMs: 5,
    provider: "openai",
    usage: { model: "gpt-test", prompt_tokens: n, completion_tokens: 1, total_tokens: n + 1, cached_tokens: 0, reasoning_tokens: 0 },
    usageReported: true,
    success: true,
    error: null,
    nodeName: "test",
  });
}

export function makeEvents(count: number): UsageEvent[] {
  return Array.from({ length: count }, (_, i) => makeEvent(i + 1));
}
