// The usage events of tracked calls (callAndTrack, streamAndTrack): what they share, and the
// event of a call the provider refused before answering.
import type { ProviderSettings } from "../config/settings.js";
import type { Usage } from "../providers/types.js";
import { buildUsageEvent, type EventParts, type TrackingState } from "./build-event.js";
import { describeError } from "./error-message.js";
import type { UsageProducer } from "./producer.js";

/** The parts every event of one call shares. */
export interface CallContext {
  createdAt: Date;
  provider: string;
  nodeName: string | undefined;
  state: TrackingState | undefined;
  streamed: boolean;
  operation: "chat";
}

export function zeroUsage(model: string): Usage {
  return { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
}

/** Hands over the event of a call whose provider call threw before any answer (no usage known). */
export function recordRefusedCall(producer: UsageProducer, context: CallContext, settings: ProviderSettings, error: unknown, latencyMs: number): void {
  const parts: EventParts = {
    ...context,
    latencyMs,
    usage: zeroUsage(settings.model),
    usageReported: false,
    deployment: settings.provider === "azure_openai" ? settings.deployment : null,
    success: false,
    error: describeError(error, [settings.apiKey]),
    timeToFirstTokenMs: null,
  };
  producer.push(buildUsageEvent(parts));
}
