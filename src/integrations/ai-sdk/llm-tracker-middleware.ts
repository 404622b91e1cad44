// llmTrackerMiddleware: a Vercel AI SDK language-model middleware (specification V3, AI SDK 6)
// that records every generateText / streamText call (each doGenerate / doStream) of the
// wrapped model. It imports nothing from `ai`: the middleware is a plain object.
import type { StreamAccumulator } from "../../providers/types.js";
import { describeError } from "../../usage/error-message.js";
import { beginTrackedCall, zeroUsageOf } from "../../usage/tracked-call.js";
import type { TrackingContext } from "../../usage/tracking-context.js";
import { estimateRequestTokens } from "../prompt-text.js";
import { trackedChunks } from "../tracked-sdk-stream.js";
import { AiSdkStreamAccumulator, type AiSdkStreamPart } from "./ai-sdk-stream-accumulator.js";
import { convertAiSdkUsage, type AiSdkUsage } from "./convert-ai-sdk-usage.js";

/** The parts of a LanguageModelV3 read here. */
export interface AiSdkModelInfo {
  readonly provider: string;
  readonly modelId: string;
}

/** The LanguageModelV3Middleware this returns (structurally; `ai` need not be installed to import llm-tracker). */
export interface LlmTrackerMiddleware {
  readonly specificationVersion: "v3";
  wrapGenerate: <Result extends { usage: AiSdkUsage; response?: { modelId?: string } }>(options: {
    doGenerate: () => PromiseLike<Result>;
    params: { prompt?: unknown };
    model: AiSdkModelInfo;
  }) => Promise<Result>;
  wrapStream: <Part, Result extends { stream: ReadableStream<Part> }>(options: {
    doStream: () => PromiseLike<Result>;
    params: { prompt?: unknown };
    model: AiSdkModelInfo;
  }) => Promise<Result>;
}

// AI SDK provider ids (`openai.chat`, `openai.responses`, `azure.chat`, `google.generative-ai`,
// `google.vertex.chat`, …) by their first part, for ours.
const PROVIDERS: Record<string, string> = { openai: "openai", azure: "azure_openai", google: "gemini" };

/** Our provider name for an AI SDK model's `provider` id: `openai`, `azure_openai`, `gemini`, or the id's first part. */
export function aiSdkProviderName(providerId: string): string {
  const first = providerId.split(".")[0] ?? providerId;
  return PROVIDERS[first] ?? first;
}

/**
 * A language-model middleware for `wrapLanguageModel({ model, middleware })`: each call the
 * model makes for `generateText` / `streamText` (one per step of a tool loop) records one usage
 * event, tagged with `defaults` under any `withTracking` scope.
 */
export function llmTrackerMiddleware(defaults?: TrackingContext): LlmTrackerMiddleware {
  const begin = (model: AiSdkModelInfo, streamed: boolean) => {
    const provider = aiSdkProviderName(model.provider);
    // Before the provider call: who the call is for, the producer, the span (see beginTrackedCall).
    return beginTrackedCall({ provider, operation: "chat", model: model.modelId, deployment: provider === "azure_openai" ? model.modelId : null, streamed }, defaults);
  };
  return {
    specificationVersion: "v3",
    async wrapGenerate({ doGenerate, model }) {
      const call = begin(model, false);
      let result;
      try {
        result = await call.run(doGenerate);
      } catch (error) {
        call.end({ usage: zeroUsageOf(model.modelId), usageReported: false, error: describeError(error), thrown: error });
        throw error;
      }
      try {
        call.end({ ...convertAiSdkUsage(result.usage, result.response?.modelId || model.modelId), error: null });
      } catch {
        // Recording never fails the caller's call.
      }
      return result;
    },
    async wrapStream({ doStream, params, model }) {
      const call = begin(model, true);
      let result;
      try {
        result = await call.run(doStream);
      } catch (error) {
        call.end({ usage: zeroUsageOf(model.modelId), usageReported: false, error: describeError(error), thrown: error });
        throw error;
      }
      const source = result.stream as ReadableStream<unknown>;
      const accumulator = new AiSdkStreamAccumulator(model.modelId);
      const parts = trackedChunks(() => source[Symbol.asyncIterator](), {
        call,
        accumulator: accumulator as StreamAccumulator<unknown>,
        isProviderError: () => false,
        estimatePrompt: () => estimateRequestTokens([params.prompt], model.modelId, 3),
        failureOf: () => (accumulator.error === undefined ? null : `stream ended early: provider error: ${describeError(accumulator.error)}`),
        secrets: [],
      });
      return { ...result, stream: ReadableStream.from(parts()) };
    },
  };
}

export type { AiSdkStreamPart };
