// The usage events of tracked calls (callAndTrack, streamAndTrack): what they share, and the
// event of a call the provider refused before answering.
import type { ProviderSettings } from "../config/settings.js";
import { GenAiTelemetry } from "../integrations/opentelemetry/genai-telemetry.js";
import type { Usage } from "../providers/types.js";
import { buildUsageEvent, type EventOutcome, type TrackingState } from "./build-event.js";
import { describeError } from "./error-message.js";
import type { UsageProducer } from "./producer.js";
import { resolveTracking } from "./tracking-context.js";

/** The parts every event of one call shares. */
export interface CallContext {
  createdAt: Date;
  provider: string;
  nodeName: string | undefined;
  state: TrackingState | undefined;
  streamed: boolean;
  operation: "chat";
}

/** The context of a call made now: its own nodeName/state over the withTracking scope. */
export function callContextOf(provider: string, options: { nodeName?: string; state?: TrackingState }, streamed: boolean): CallContext {
  const tracking = resolveTracking(undefined, { nodeName: options.nodeName, state: options.state });
  return { createdAt: new Date(), provider, nodeName: tracking.nodeName, state: tracking.state, streamed, operation: "chat" };
}

/** Starts the call's span (null without @opentelemetry/api). */
export function startCallTelemetry(context: CallContext, model: string): GenAiTelemetry | null {
  return GenAiTelemetry.start({ provider: context.provider, operation: context.operation, requestModel: model, streamed: context.streamed });
}

/** Hands the call's event over and ends its span and metrics. */
export function handOver(producer: UsageProducer, context: CallContext, outcome: EventOutcome, telemetry: GenAiTelemetry | null | undefined, thrown?: unknown): void {
  producer.push(buildUsageEvent(outcome, context));
  telemetry?.end({ responseModel: outcome.usage.model, usage: outcome.usage, usageReported: outcome.usageReported, error: outcome.error, thrown, durationMs: outcome.latencyMs ?? 0 });
}

export function zeroUsage(model: string): Usage {
  return { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
}

/** Hands over the event of a call whose provider call threw before any answer (no usage known). */
export function recordRefusedCall(producer: UsageProducer, context: CallContext, settings: ProviderSettings, error: unknown, latencyMs: number, telemetry?: GenAiTelemetry | null): void {
  const outcome: EventOutcome = {
    latencyMs,
    usage: zeroUsage(settings.model),
    usageReported: false,
    deployment: settings.provider === "azure_openai" ? settings.deployment : null,
    success: false,
    error: describeError(error, [settings.apiKey]),
    timeToFirstTokenMs: null,
  };
  handOver(producer, context, outcome, telemetry, error);
}
