// trackGemini: records every models.generateContent, models.generateContentStream and
// models.embedContent of a GoogleGenAI instance. Those are per-instance arrow functions in
// @google/genai (not prototype methods), so they are replaced on the instance's `models`.
import { convertGeminiEmbedUsage } from "../../providers/gemini/convert-gemini-embed-usage.js";
import { convertGeminiUsage, type GeminiUsageMetadata } from "../../providers/gemini/convert-gemini-usage.js";
import { GeminiStreamAccumulator } from "../../providers/gemini/gemini-stream-accumulator.js";
import type { StreamAccumulator } from "../../providers/types.js";
import { describeError } from "../../usage/error-message.js";
import { beginTrackedCall, zeroUsageOf, type TrackedCall } from "../../usage/tracked-call.js";
import type { TrackingContext } from "../../usage/tracking-context.js";
import { estimateRequestTokens } from "../prompt-text.js";
import { trackedChunks } from "../tracked-sdk-stream.js";

type Params = { model?: unknown; contents?: unknown; config?: { abortSignal?: AbortSignal; systemInstruction?: unknown; tools?: unknown } | null };
type SdkMethod = (params: Params) => Promise<unknown>;

interface Holder {
  defaults: TrackingContext | undefined;
}

const trackedInstances = new WeakMap<object, Holder>();

/** `gemini-2.5-flash` from `gemini-2.5-flash`, `models/gemini-2.5-flash` or a Vertex resource name. */
export function geminiModelName(model: unknown): string {
  if (typeof model !== "string") return "";
  const at = model.lastIndexOf("models/");
  return at === -1 ? model : model.slice(at + "models/".length);
}

function isGeminiApiError(error: unknown): boolean {
  return error instanceof Error && error.name === "ApiError";
}

/**
 * Tracks a `GoogleGenAI` instance in place and returns it (same object, same type): each
 * `models.generateContent`, `models.generateContentStream` and `models.embedContent` (and
 * the chats built on them) records one usage event, tagged with `defaults` under any
 * `withTracking` scope. Tracking the same instance again replaces its defaults.
 */
export function trackGemini<AI extends object>(ai: AI, defaults?: TrackingContext): AI {
  const existing = trackedInstances.get(ai);
  if (existing) {
    existing.defaults = defaults;
    return ai;
  }
  const holder: Holder = { defaults };
  trackedInstances.set(ai, holder);
  const models = (ai as { models?: Record<string, unknown> }).models;
  if (!models) return ai;
  const secrets = typeof (ai as { apiKey?: unknown }).apiKey === "string" ? [(ai as { apiKey: string }).apiKey] : [];
  const replace = (name: string, wrap: (original: SdkMethod) => SdkMethod) => {
    const original = models[name];
    if (typeof original === "function") models[name] = wrap(original.bind(models) as SdkMethod);
  };

  const begin = (params: Params, operation: string, streamed: boolean) =>
    // Before the provider call: who the call is for, the producer, the span (see beginTrackedCall).
    beginTrackedCall({ provider: "gemini", operation, model: geminiModelName(params?.model), deployment: null, streamed }, holder.defaults);
  const fail = (call: TrackedCall, error: unknown) =>
    call.end({ usage: zeroUsageOf(call.description.model), usageReported: false, error: describeError(error, secrets), thrown: error });

  replace("generateContent", (original) => async (params) => {
    const call = begin(params, "chat", false);
    let response: unknown;
    try {
      response = await call.run(() => original(params));
    } catch (error) {
      fail(call, error);
      throw error;
    }
    try {
      const answer = response as { usageMetadata?: GeminiUsageMetadata; modelVersion?: string } | null;
      call.end({ ...convertGeminiUsage(answer?.usageMetadata, answer?.modelVersion || call.description.model), error: null });
    } catch {
      // Recording never fails the caller's call.
    }
    return response;
  });

  replace("generateContentStream", (original) => async (params) => {
    const call = begin(params, "chat", true);
    let generator: AsyncGenerator<unknown>;
    try {
      generator = (await call.run(() => original(params))) as AsyncGenerator<unknown>;
    } catch (error) {
      fail(call, error);
      throw error;
    }
    const model = call.description.model;
    return trackedChunks(() => generator, {
      call,
      accumulator: new GeminiStreamAccumulator(model) as StreamAccumulator<unknown>,
      isProviderError: isGeminiApiError,
      aborted: () => params?.config?.abortSignal?.aborted === true,
      estimatePrompt: () => estimateRequestTokens([params?.config?.systemInstruction, params?.contents, params?.config?.tools], model),
      secrets,
    })();
  });

  replace("embedContent", (original) => async (params) => {
    const call = begin(params, "embeddings", false);
    let response: unknown;
    try {
      response = await call.run(() => original(params));
    } catch (error) {
      fail(call, error);
      throw error;
    }
    try {
      const model = call.description.model;
      const reported = convertGeminiEmbedUsage(response as Parameters<typeof convertGeminiEmbedUsage>[0], model);
      if (reported) {
        call.end({ ...reported, error: null });
      } else {
        // The Gemini API reports no tokens for embeddings: the input is counted with the tokenizer (usage_reported false).
        const usage = zeroUsageOf(model);
        try {
          usage.prompt_tokens = usage.total_tokens = estimateRequestTokens([params?.contents], model);
        } catch {
          // no tokenizer: zeros
        }
        call.end({ usage, usageReported: false, error: null });
      }
    } catch {
      // Recording never fails the caller's call.
    }
    return response;
  });
  return ai;
}
