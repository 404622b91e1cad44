// One tracked call from start to its one event: everything that happens before the provider
// is called (who the call is for, the producer, the span) and the event it ends with. The
// SDK wrappers and the AI SDK middleware go through here; callAndTrack/streamAndTrack share
// its context and telemetry.
import { getBudgetGuard } from "../budgets/default-guard.js";
import { GenAiTelemetry } from "../integrations/opentelemetry/genai-telemetry.js";
import type { Usage } from "../token-usage.js";
import { buildUsageEvent } from "./build-event.js";
import { getDefaultProducer } from "./default-producer.js";
import { recordSoon } from "./deferred-recording.js";
import { describeError } from "./error-message.js";
import type { UsageProducer } from "./producer.js";
import { resolveTracking, type TrackingContext } from "./tracking-context.js";

/** What a call is, known before it is made. */
export interface CallDescription {
  /** Stored as `provider`: `openai`, `azure_openai`, `gemini`, or the AI SDK's provider. */
  provider: string;
  /** `chat` or `embeddings`. */
  operation: string;
  /** The model asked for; recorded when the response names none. */
  model: string;
  /** Azure deployment name; null elsewhere. */
  deployment: string | null;
  streamed: boolean;
}

/** How the call ended. */
export interface CallEnd {
  usage: Usage;
  usageReported: boolean;
  /** The event's error text (already redacted); null for a successful call. */
  error: string | null;
  /** What was thrown, when the call failed with an error object (for the span's `error.type`). */
  thrown?: unknown;
  /** Streams: from the call to the first text or tool-call delta; null when none came. */
  timeToFirstTokenMs?: number | null;
  /** performance.now() when the call ended, when that was before end() was called. Default: now. */
  endedAt?: number;
}

/** A call under way; `end()` hands its one event over (later calls do nothing), built on the next turn of the event loop. */
export class TrackedCall {
  /** performance.now() when the call started. */
  readonly started = performance.now();
  readonly createdAt = new Date();
  private ended = false;

  constructor(
    readonly description: CallDescription,
    readonly context: TrackingContext,
    private readonly producer: UsageProducer,
    private readonly telemetry: GenAiTelemetry | null,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** Whether an OpenTelemetry span is open for this call: it must end when the call does, not a turn later. */
  get hasSpan(): boolean {
    return this.telemetry !== null;
  }

  /** Runs the provider call with the call's span active. */
  run<T>(fn: () => T): T {
    return this.telemetry ? this.telemetry.run(fn) : fn();
  }

  /** The provider was never called (the SDK threw before sending): no event, and the span ends as failed. */
  abandon(thrown: unknown, secrets: readonly (string | undefined)[] = []): void {
    if (this.ended) return;
    this.ended = true;
    this.telemetry?.abandon(thrown, describeError(thrown, secrets));
  }

  end(end: CallEnd): void {
    if (this.ended) return;
    this.ended = true;
    const latencyMs = (end.endedAt ?? performance.now()) - this.started;
    // The span ends now, when the call did; the event is built once the caller has moved on.
    this.telemetry?.end({ responseModel: end.usage.model, usage: end.usage, usageReported: end.usageReported, error: end.error, thrown: end.thrown, durationMs: latencyMs });
    recordSoon(() => this.handOver(end, latencyMs));
  }

  private handOver(end: CallEnd, latencyMs: number): void {
    const { description } = this;
    this.producer.push(
      buildUsageEvent({
        createdAt: this.createdAt,
        latencyMs,
        provider: description.provider,
        usage: end.usage,
        usageReported: end.usageReported,
        deployment: description.deployment,
        success: end.error === null,
        error: end.error,
        nodeName: this.context.nodeName,
        state: this.context.state,
        streamed: description.streamed,
        timeToFirstTokenMs: description.streamed ? (end.timeToFirstTokenMs ?? null) : null,
        operation: description.operation,
      }),
    );
  }
}

/**
 * The one place where a wrapped call is decided, before the provider is called: it reads
 * the withTracking scope over `defaults`, resolves the producer (a bad queue setting throws
 * ConfigError here, before tokens are spent) and starts the span. A pre-call check that must
 * stop the call (a budget) belongs here too: whatever throws here reaches the caller with no
 * provider call made and nothing recorded.
 */
export function beginTrackedCall(description: CallDescription, defaults: TrackingContext | undefined, producer: () => UsageProducer = getDefaultProducer): TrackedCall {
  const context = resolveTracking(defaults);
  // Synchronous: the wrappers return the SDK's own promise, so this check never waits on Redis.
  getBudgetGuard()?.check(budgetUserOf(context), context.nodeName ?? "unknown");
  return new TrackedCall(description, context, producer(), GenAiTelemetry.start({ provider: description.provider, operation: description.operation, requestModel: description.model, streamed: description.streamed }));
}

/** The user id a budget knows a call by, as the event stores it (a string, or null). */
export function budgetUserOf(context: TrackingContext): string | null {
  const userId = context.state?.user_id;
  return userId === undefined || userId === null ? null : String(userId);
}

export function zeroUsageOf(model: string): Usage {
  return { model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
}
