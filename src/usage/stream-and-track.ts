// LLMTracker.streamAndTrack: opens a provider stream and wraps it in a TrackedStream whose
// one ending becomes one usage event.
import { getBudgetGuard } from "../budgets/default-guard.js";
import { getProviderSettings, type ProviderSettings } from "../config/settings.js";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import { estimatePromptTokens } from "../estimate/estimate-prompt-tokens.js";
import { streamEndUsage, type StreamEndUsage } from "../estimate/stream-end-usage.js";
import type { GenAiTelemetry } from "../integrations/opentelemetry/genai-telemetry.js";
import type { OpenedStream, StreamRequest } from "../providers/types.js";
import type { EventOutcome } from "./build-event.js";
import { type CallContext, callContextOf, handOver, recordRefusedCall, startCallTelemetry, zeroUsage } from "./call-events.js";
import type { StreamAndTrackOptions } from "./call-options.js";
import { checkChatRequest } from "./check-request.js";
import { describeError } from "./error-message.js";
import type { UsageProducer } from "./producer.js";
import { budgetUserOf } from "./tracked-call.js";
import { defaultDependencies, type TrackerDependencies } from "./tracker-dependencies.js";
import { type StreamEnd, type StreamEnding, TrackedStream } from "./tracked-stream.js";

/** The event's `error` text for a stream that did not complete; null when it did. */
export function streamEndError(ending: StreamEnding, secrets: readonly (string | undefined)[]): string | null {
  switch (ending.kind) {
    case "completed":
      return null;
    case "empty":
      return `LLM returned empty response (${ending.reason})`;
    case "failed":
      switch (ending.cause) {
        case "caller_stopped":
          return "stream ended early: the caller stopped reading before the stream ended";
        case "signal_aborted":
          return `stream ended early: aborted by the caller's signal (${describeError(ending.error, secrets)})`;
        case "provider_error":
          return `stream ended early: provider error: ${describeError(ending.error, secrets)}`;
        case "connection_lost":
          return `stream ended early: connection lost: ${describeError(ending.error, secrets)}`;
        case "timed_out":
          return `stream ended early: timed out (LLM_TIMEOUT_MS): ${describeError(ending.error, secrets)}`;
        case "connection_closed":
          return "stream ended early: the connection closed before the provider finished the stream";
        case "shutdown":
          return "stream ended early: shutdown() was called before the stream ended";
        case "process_exit":
          return "stream ended early: the process exited before the stream ended";
        case "stream_failed":
          return `stream ended early: ${describeError(ending.error, secrets)}`;
      }
  }
}

/** The usage of an ended stream; an estimate that can not be made (tokenizer missing) records zeros, unreported. */
function usageAtEnd(end: StreamEnd, request: StreamRequest, settings: ProviderSettings): StreamEndUsage {
  try {
    return streamEndUsage(end.snapshot, () => estimatePromptTokens(request.messages, request.tools, end.snapshot.model ?? settings.model, settings.provider === "gemini" ? "gemini" : "openai"), settings.model);
  } catch {
    return { usage: zeroUsage(end.snapshot.model ?? settings.model), usageReported: false };
  }
}

function recordStreamEnd(producer: UsageProducer, context: CallContext, settings: ProviderSettings, request: StreamRequest, opened: OpenedStream, end: StreamEnd, telemetry: GenAiTelemetry | null) {
  const { usage, usageReported } = usageAtEnd(end, request, settings);
  const error = streamEndError(end.ending, [settings.apiKey]);
  const outcome: EventOutcome = {
    latencyMs: end.latencyMs,
    usage,
    usageReported,
    deployment: opened.deployment ?? null,
    success: error === null,
    error,
    timeToFirstTokenMs: end.timeToFirstTokenMs,
  };
  handOver(producer, context, outcome, telemetry, end.ending.kind === "failed" ? end.ending.error : undefined);
  return usage;
}

/** Opens a tracked stream; see `LLMTracker.streamAndTrack`. */
export async function streamAndTrack(options: StreamAndTrackOptions, deps: TrackerDependencies = defaultDependencies): Promise<TrackedStream> {
  checkChatRequest(options?.messages, options?.tools, options?.toolChoice);
  const service = deps.service();
  const settings = getProviderSettings();
  // Before the provider call, as in callAndTrack: a bad queue setting fails before tokens are spent.
  const producer = deps.producer();
  const context: CallContext = callContextOf(service.provider, options, true);
  // A spent budget refuses the call here: no provider call, nothing recorded (the refusal is counted).
  const budgets = getBudgetGuard();
  // Awaited only when budgets are set: without them the call does not wait a turn for nothing.
  if (budgets) await budgets.checkBeforeCall(budgetUserOf(context), context.nodeName ?? "unknown");
  const telemetry = startCallTelemetry(context, settings.model);
  const request: StreamRequest = {
    messages: options.messages,
    maxTokens: options.maxTokens,
    temperature: options.temperature,
    jsonMode: options.jsonMode,
    responseFormat: options.responseFormat,
    tools: options.tools,
    toolChoice: options.toolChoice,
    signal: options.signal,
  };
  // A signal aborted before the call: the SDK refuses to send anything, so there is no call to record.
  const abortedBefore = options.signal?.aborted === true;
  const started = performance.now();
  let opened: OpenedStream;
  try {
    opened = await (telemetry ? telemetry.run(() => service.openStream(request)) : service.openStream(request));
  } catch (error) {
    // Input the adapter refused (e.g. Gemini's call arguments that are not a JSON object): nothing was sent.
    if (error instanceof InvalidInputError || abortedBefore) {
      telemetry?.abandon(error, (error as Error).message);
      throw error;
    }
    recordRefusedCall(producer, context, settings, error, performance.now() - started, telemetry);
    throw error;
  }
  return new TrackedStream(opened, started, (end) => recordStreamEnd(producer, context, settings, request, opened, end, telemetry), options.signal);
}
