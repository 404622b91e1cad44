// LLMTracker: calls the configured provider and records one usage event per
// call that reached it (success or not), through the background producer.
import { getBudgetGuard } from "../budgets/default-guard.js";
import { getProviderSettings } from "../config/settings.js";
import { EmptyResponseError } from "../errors/empty-response-error.js";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import { buildUsageEvent, type EventOutcome } from "./build-event.js";
import { type CallContext, callContextOf, handOver, recordRefusedCall, startCallTelemetry } from "./call-events.js";
import type { CallAndTrackOptions, CallAndTrackResult, StreamAndTrackOptions } from "./call-options.js";
import { checkChatRequest } from "./check-request.js";
import { parseRecordInput, type RecordOptions } from "./record-input.js";
import { streamAndTrack } from "./stream-and-track.js";
import { budgetUserOf } from "./tracked-call.js";
import { defaultDependencies, type TrackerDependencies } from "./tracker-dependencies.js";
import type { TrackedStream } from "./tracked-stream.js";

export type { TrackerDependencies } from "./tracker-dependencies.js";
export type { CallAndTrackOptions, CallAndTrackResult, StreamAndTrackOptions } from "./call-options.js";

/** Calls the provider and records the call; see `LLMTracker.callAndTrack`. */
export async function callAndTrack(options: CallAndTrackOptions, deps: TrackerDependencies = defaultDependencies): Promise<CallAndTrackResult> {
  checkChatRequest(options?.messages, options?.tools, options?.toolChoice);
  const service = deps.service();
  const settings = getProviderSettings();
  // Resolved before the provider call: a bad queue setting (ConfigError) must
  // fail before tokens are spent, never after the caller's answer arrived.
  const producer = deps.producer();
  const context: CallContext = callContextOf(service.provider, options, false);
  // A spent budget refuses the call here: no provider call, nothing recorded (the refusal is counted).
  const budgets = getBudgetGuard();
  // Awaited only when budgets are set: without them the call does not wait a turn for nothing.
  if (budgets) await budgets.checkBeforeCall(budgetUserOf(context), context.nodeName ?? "unknown");
  const telemetry = startCallTelemetry(context, settings.model);
  const started = performance.now();
  const request = {
    messages: options.messages,
    maxTokens: options.maxTokens,
    temperature: options.temperature,
    jsonMode: options.jsonMode,
    responseFormat: options.responseFormat,
    tools: options.tools,
    toolChoice: options.toolChoice,
  };

  let outcome;
  try {
    outcome = await (telemetry ? telemetry.run(() => service.complete(request)) : service.complete(request));
  } catch (error) {
    // Input the adapter refused (e.g. Gemini's call arguments that are not a JSON object): nothing was sent.
    if (error instanceof InvalidInputError) {
      telemetry?.abandon(error, error.message);
      throw error;
    }
    recordRefusedCall(producer, context, settings, error, performance.now() - started, telemetry);
    throw error;
  }

  const latencyMs = performance.now() - started;
  const emptyError = outcome.content === null ? new EmptyResponseError(outcome.usage, outcome.emptyReason ?? "empty_content") : undefined;
  const ended: EventOutcome = {
    latencyMs,
    usage: outcome.usage,
    usageReported: outcome.usageReported,
    deployment: outcome.deployment ?? null,
    success: !emptyError,
    error: emptyError ? `${emptyError.message} (${emptyError.reason})` : null,
    timeToFirstTokenMs: null,
  };
  handOver(producer, context, ended, telemetry, emptyError);
  if (emptyError) throw emptyError;
  return { content: outcome.content as string, usage: outcome.usage, toolCalls: outcome.toolCalls };
}

/** Records a call made some other way; see `LLMTracker.record`. */
export function record(options: RecordOptions, deps: Pick<TrackerDependencies, "producer"> = defaultDependencies): string {
  const input = parseRecordInput(options, () => safeApiKey());
  const event = buildUsageEvent(input);
  deps.producer().push(event);
  return event.id;
}

function safeApiKey(): string | undefined {
  try {
    return getProviderSettings().apiKey;
  } catch {
    return undefined; // record() works without a provider configured
  }
}

/** The tracked-call API: `LLMTracker.callAndTrack`, `LLMTracker.streamAndTrack` and `LLMTracker.record`. */
export const LLMTracker = {
  /**
   * Calls the configured provider and records one usage event.
   * Throws `EmptyMessagesError` (no call, nothing recorded) for empty `messages`,
   * `InvalidInputError` (no call, nothing recorded) for a malformed message or tool,
   * `EmptyResponseError` for an empty answer (recorded as failed, with its usage; an answer
   * with tool calls and no text is not empty), and re-throws the provider's own error object
   * (recorded as failed). Recording never waits on Redis.
   */
  callAndTrack(options: CallAndTrackOptions): Promise<CallAndTrackResult> {
    return callAndTrack(options);
  },
  /**
   * Opens a streamed call and records one usage event when the stream ends, whichever way it
   * ends. Resolves once the provider answered with a stream; throws (and records as failed)
   * what the provider throws before that, like callAndTrack. Iterate the stream for text
   * deltas, then `await stream.result` for `{ content, usage, toolCalls }`.
   */
  streamAndTrack(options: StreamAndTrackOptions): Promise<TrackedStream> {
    return streamAndTrack(options);
  },
  /**
   * Records a call made some other way, synchronously handed to the producer.
   * Returns the event id (the row's primary key). Throws `InvalidInputError` naming
   * the field for malformed input; never throws because of Redis.
   */
  record(options: RecordOptions): string {
    return record(options);
  },
};
