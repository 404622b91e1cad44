// LLMTracker: calls the configured provider and records one usage event per
// call that reached it (success or not), through the background producer.
import { getProviderSettings } from "../config/settings.js";
import { EmptyMessagesError } from "../errors/empty-messages-error.js";
import { EmptyResponseError } from "../errors/empty-response-error.js";
import { getLlmService } from "../providers/get-llm-service.js";
import type { ChatMessage, LlmService, Usage } from "../providers/types.js";
import { buildUsageEvent, type TrackingState } from "./build-event.js";
import { getDefaultProducer } from "./default-producer.js";
import { describeError } from "./error-message.js";
import { parseRecordInput, type RecordOptions } from "./record-input.js";
import type { UsageProducer } from "./producer.js";

export interface CallAndTrackOptions {
  /** Required, non-empty; each `{ role, content }` with role `system`, `user` or `assistant`. */
  messages: ChatMessage[];
  /** Ask for a JSON object answer. Default false. */
  jsonMode?: boolean;
  /** Default: the provider config's `max_tokens`. */
  maxTokens?: number;
  /** Default: the provider config's `temperature`. */
  temperature?: number;
  /** Passed to the provider's response format. */
  responseFormat?: Record<string, unknown>;
  /** Stored as `metadata.node_name`. Default `"unknown"`. */
  nodeName?: string;
  /** `user_id`, `source_type`, `source_task_id`, `source_path`, `metadata`. */
  state?: TrackingState;
}

export interface CallAndTrackResult {
  content: string;
  usage: Usage;
}

/** Where the tracker gets its provider client and producer; the defaults follow configure(). */
export interface TrackerDependencies {
  service: () => LlmService;
  producer: () => UsageProducer;
}

const defaults: TrackerDependencies = { service: getLlmService, producer: getDefaultProducer };

/** Calls the provider and records the call; see `LLMTracker.callAndTrack`. */
export async function callAndTrack(options: CallAndTrackOptions, deps: TrackerDependencies = defaults): Promise<CallAndTrackResult> {
  if (!Array.isArray(options?.messages) || options.messages.length === 0) throw new EmptyMessagesError();
  const service = deps.service();
  const settings = getProviderSettings();
  // Resolved before the provider call: a bad queue setting (ConfigError) must
  // fail before tokens are spent, never after the caller's answer arrived.
  const producer = deps.producer();
  const createdAt = new Date();
  const started = performance.now();
  const common = { createdAt, provider: service.provider, nodeName: options.nodeName, state: options.state };

  let outcome;
  try {
    outcome = await service.complete({
      messages: options.messages,
      maxTokens: options.maxTokens,
      temperature: options.temperature,
      jsonMode: options.jsonMode,
      responseFormat: options.responseFormat,
    });
  } catch (error) {
    const latencyMs = performance.now() - started;
    producer.push(
      buildUsageEvent({
        ...common,
        latencyMs,
        usage: { model: settings.model, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 },
        usageReported: false,
        deployment: settings.provider === "azure_openai" ? settings.deployment : null,
        success: false,
        error: describeError(error, [settings.apiKey]),
      }),
    );
    throw error;
  }

  const latencyMs = performance.now() - started;
  const empty = outcome.content === null || outcome.content === "";
  const emptyError = empty ? new EmptyResponseError(outcome.usage, outcome.emptyReason ?? "empty_content") : undefined;
  producer.push(
    buildUsageEvent({
      ...common,
      latencyMs,
      usage: outcome.usage,
      usageReported: outcome.usageReported,
      deployment: outcome.deployment ?? null,
      success: !emptyError,
      error: emptyError ? `${emptyError.message} (${emptyError.reason})` : null,
    }),
  );
  if (emptyError) throw emptyError;
  return { content: outcome.content as string, usage: outcome.usage };
}

/** Records a call made some other way; see `LLMTracker.record`. */
export function record(options: RecordOptions, deps: Pick<TrackerDependencies, "producer"> = defaults): string {
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

/** The tracked-call API: `LLMTracker.callAndTrack(options)` and `LLMTracker.record(options)`. */
export const LLMTracker = {
  /**
   * Calls the configured provider and records one usage event.
   * Throws `EmptyMessagesError` (no call, nothing recorded) for empty `messages`,
   * `EmptyResponseError` for an empty answer (recorded as failed, with its usage),
   * and re-throws the provider's own error object (recorded as failed).
   * Recording never waits on Redis.
   */
  callAndTrack(options: CallAndTrackOptions): Promise<CallAndTrackResult> {
    return callAndTrack(options);
  },
  /**
   * Records a call made some other way, synchronously handed to the producer.
   * Returns the event id (the row's primary key). Throws `InvalidInputError`
   * naming the field for malformed input; never throws because of Redis.
   */
  record(options: RecordOptions): string {
    return record(options);
  },
};
