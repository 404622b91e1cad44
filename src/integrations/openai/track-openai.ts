// trackOpenAI: records every chat.completions.create, responses.create and embeddings.create
// of an OpenAI / AzureOpenAI client, streaming or not, while the SDK's own return values
// (its APIPromise, its Stream) keep working exactly as they do without the wrapper.
import { estimatePromptTokens } from "../../estimate/estimate-prompt-tokens.js";
import { convertEmbeddingsUsage } from "../../providers/openai/convert-embeddings-usage.js";
import { convertOpenAIUsage } from "../../providers/openai/convert-openai-usage.js";
import { convertResponsesUsage } from "../../providers/openai/convert-responses-usage.js";
import { OpenAIStreamAccumulator } from "../../providers/openai/openai-stream-accumulator.js";
import { ResponsesStreamAccumulator } from "../../providers/openai/responses-stream-accumulator.js";
import type { ChatMessage, ConvertedUsage, StreamAccumulator, StreamSnapshot } from "../../providers/types.js";
import { describeError } from "../../usage/error-message.js";
import { beginTrackedCall, zeroUsageOf, type TrackedCall } from "../../usage/tracked-call.js";
import type { TrackingContext } from "../../usage/tracking-context.js";
import { estimateRequestTokens, requestText } from "../prompt-text.js";
import { trackedChunks } from "../tracked-sdk-stream.js";
import { azureDeploymentOf, isOpenAIError, openAIProviderOf, secretsOf, type OpenAIClientLike } from "./openai-client-facts.js";

type Kind = "chat" | "responses" | "embeddings";
type Body = Record<string, unknown> & { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } | null };

/** The parts of openai's APIPromise used here (openai/core/api-promise). */
interface ApiPromiseLike<T> extends Promise<T> {
  responsePromise: Promise<unknown>;
  parsedPromise?: Promise<T>;
  /** Own property, set by the constructor; parse() and _thenUnwrap() call it. */
  parseResponse: (client: unknown, props: unknown) => Promise<unknown>;
  _thenUnwrap<U>(transform: (data: T) => U): ApiPromiseLike<U>;
  parse(): Promise<T>;
  asResponse(): Promise<Response>;
}

/** The parts of openai's Stream used here (openai/core/streaming). */
interface StreamLike {
  controller?: AbortController;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

interface Holder {
  defaults: TrackingContext | undefined;
}

const trackedClients = new WeakMap<object, Holder>();

function isApiPromise(value: unknown): value is ApiPromiseLike<unknown> {
  const candidate = value as ApiPromiseLike<unknown> | null;
  return typeof candidate?._thenUnwrap === "function" && typeof candidate.parseResponse === "function" && candidate.responsePromise instanceof Promise;
}

/**
 * Tracks an `OpenAI` or `AzureOpenAI` client in place and returns it (same object, same type):
 * each `chat.completions.create`, `responses.create` and `embeddings.create` (and the SDK
 * helpers built on them: `chat.completions.parse`, `.stream`, `.runTools`, `responses.parse`,
 * `responses.stream`) records one usage event, tagged with `defaults` under any `withTracking`
 * scope. Tracking the same client again replaces its defaults.
 */
export function trackOpenAI<Client extends object>(client: Client, defaults?: TrackingContext): Client {
  const existing = trackedClients.get(client);
  if (existing) {
    existing.defaults = defaults;
    return client;
  }
  const holder: Holder = { defaults };
  trackedClients.set(client, holder);
  const resources = client as { chat?: { completions?: object }; responses?: object; embeddings?: object };
  wrapCreate(client, resources.chat?.completions, "chat", holder);
  wrapCreate(client, resources.responses, "responses", holder);
  wrapCreate(client, resources.embeddings, "embeddings", holder);
  return client;
}

function wrapCreate(client: object, resource: object | undefined, kind: Kind, holder: Holder): void {
  const target = resource as { create?: (body: unknown, options?: unknown) => unknown } | undefined;
  const original = target?.create;
  if (!target || typeof original !== "function") return;
  const facts = client as OpenAIClientLike;
  const provider = openAIProviderOf(facts);
  // An own property on this client's resource: other clients (and the prototype) stay untouched.
  target.create = function create(this: unknown, body: unknown, options?: unknown): unknown {
    if (body === null || typeof body !== "object") return original.call(this, body, options);
    return trackedCreate(client, provider, kind, holder, (sent) => original.call(this, sent, options), body as Body);
  };
}

function trackedCreate(client: object, provider: "openai" | "azure_openai", kind: Kind, holder: Holder, send: (body: Body) => unknown, body: Body): unknown {
  const model = typeof body.model === "string" ? body.model : "";
  const streamed = kind !== "embeddings" && body.stream === true;
  const facts = client as OpenAIClientLike;
  // Before the provider call: who the call is for, the producer, the span (see beginTrackedCall).
  const call = beginTrackedCall({ provider, operation: kind === "embeddings" ? "embeddings" : "chat", model, deployment: azureDeploymentOf(facts, provider, model), streamed }, holder.defaults);
  const state = new CreateCall(client, call, kind, body, model, secretsOf(facts));

  let promise: unknown;
  try {
    promise = call.run(() => send(state.sent));
  } catch (error) {
    call.abandon(error, state.secrets); // thrown before anything was sent (the SDK's own argument checks)
    throw error;
  }

  if (!isApiPromise(promise)) {
    // Not the openai SDK's own promise (an OpenAI-compatible client of another make): tracked through a plain one.
    return Promise.resolve(promise).then(
      (data) => state.onData(data),
      (error: unknown) => {
        state.fail(error);
        throw error;
      },
    );
  }

  // A request that failed is recorded even when nobody parses it (asResponse(), or never awaited).
  promise.responsePromise.then(undefined, (error: unknown) => state.fail(error));
  // The SDK's own APIPromise is returned, with its body parser wrapped: `onData` runs when
  // (and only when) the caller's await, withResponse() or a helper's _thenUnwrap parses the
  // body; nothing here reads it early, and no second APIPromise is made.
  const tracked = promise as TrackedApiPromise;
  state.parseResponse = promise.parseResponse;
  tracked[STATE] = state;
  tracked.parseResponse = trackedParseResponse;
  tracked.asResponse = trackedAsResponse;
  return tracked;
}

/** One create() call: what it sent and how its answer is recorded. */
class CreateCall {
  /** The body sent: the caller's own, or a copy that asks a chat stream for its usage. */
  readonly sent: Body;
  /** The caller did not ask for the usage chunk: the wrapper did, and hides it. */
  readonly askedUsage: boolean;
  parseResponse!: (client: unknown, props: unknown) => Promise<unknown>;

  constructor(
    readonly client: object,
    readonly call: TrackedCall,
    readonly kind: Kind,
    readonly body: Body,
    readonly model: string,
    readonly secrets: string[],
  ) {
    // A chat stream reports usage only when asked: ask, and keep the usage-only chunk from the caller.
    this.askedUsage = kind === "chat" && call.description.streamed && body.stream_options?.include_usage !== true;
    this.sent = this.askedUsage ? { ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } } : body;
  }

  fail(error: unknown): void {
    this.call.end({ usage: zeroUsageOf(this.model), usageReported: false, error: describeError(error, this.secrets), thrown: error });
  }

  onData(data: unknown): unknown {
    try {
      if (this.call.description.streamed) return trackStream(this.client, this.call, this.kind, this.body, data, this.askedUsage, this.secrets);
      recordAnswer(this.call, this.kind, data, this.model);
    } catch {
      // Recording never fails the caller's call.
    }
    return data;
  }
}

const STATE = Symbol("llm-tracker call");

type TrackedApiPromise = ApiPromiseLike<unknown> & { [STATE]: CreateCall };

// Shared by every tracked promise (no closures made per call): `this` is the APIPromise.
function trackedParseResponse(this: TrackedApiPromise, client: unknown, props: unknown): Promise<unknown> {
  const state = this[STATE];
  return state.parseResponse.call(this, client, props).then(
    (data) => state.onData(data),
    (error: unknown) => {
      state.fail(error); // a body the SDK could not read or parse
      throw error;
    },
  );
}

function trackedAsResponse(this: TrackedApiPromise): Promise<Response> {
  const state = this[STATE];
  const response = (Object.getPrototypeOf(this) as ApiPromiseLike<unknown>).asResponse.call(this);
  // withResponse() parses as well (parse() runs first): the parsed body is recorded then.
  if (!state.call.isEnded && this.parsedPromise === undefined) void response.then((raw) => recordRawResponse(state.call, state.kind, state.body, raw, state.model, this), () => {});
  return response;
}

/** The usage of a parsed, non-streamed answer. */
function recordAnswer(call: TrackedCall, kind: Kind, data: unknown, model: string): void {
  const answer = data as { model?: unknown; usage?: unknown; status?: unknown; error?: { code?: unknown } | null } | null;
  const reported = typeof answer?.model === "string" && answer.model !== "" ? answer.model : model;
  const converted: ConvertedUsage =
    kind === "chat"
      ? convertOpenAIUsage(answer?.usage as Parameters<typeof convertOpenAIUsage>[0], reported)
      : kind === "responses"
        ? convertResponsesUsage(answer?.usage as Parameters<typeof convertResponsesUsage>[0], reported)
        : convertEmbeddingsUsage(answer?.usage as Parameters<typeof convertEmbeddingsUsage>[0], reported);
  const error = kind === "responses" && answer?.status === "failed" ? responseFailedText(String(answer.error?.code ?? "unknown")) : null;
  call.end({ usage: converted.usage, usageReported: converted.usageReported, error });
}

/**
 * The caller took the raw Response (`asResponse()`) and reads the body itself. A JSON body is
 * read from a copy for its usage; a stream's body is the caller's alone, so its prompt is
 * estimated (usage_reported false).
 */
async function recordRawResponse(call: TrackedCall, kind: Kind, body: Body, raw: Response, model: string, promise: ApiPromiseLike<unknown>): Promise<void> {
  if (promise.parsedPromise !== undefined || call.isEnded) return;
  if (call.description.streamed) {
    const usage = zeroUsageOf(model);
    try {
      usage.prompt_tokens = usage.total_tokens = estimatePrompt(kind, body, model);
    } catch {
      // no tokenizer: zeros
    }
    return call.end({ usage, usageReported: false, error: null });
  }
  try {
    recordAnswer(call, kind, await raw.clone().json(), model);
  } catch {
    call.end({ usage: zeroUsageOf(model), usageReported: false, error: null });
  }
}

function responseFailedText(code: string): string {
  return `the provider ended the response as failed (${code})`;
}

function responsesFailure(snapshot: StreamSnapshot): string | null {
  const reason = snapshot.emptyReason;
  if (reason === null) return null;
  return responseFailedText(reason.replace(/^(failed|error):/, ""));
}

// With include_usage the provider sends `usage: null` on every chunk and one extra usage-only
// chunk (`choices: []`) after the finish chunk; a caller that did not ask gets neither, as
// without the wrapper.
function isUsageOnlyChunk(chunk: unknown): boolean {
  const c = chunk as { usage?: unknown; choices?: unknown[] };
  return c.usage != null && Array.isArray(c.choices) && c.choices.length === 0;
}

function dropNullUsage(chunk: unknown): void {
  if ((chunk as { usage?: unknown }).usage === null) delete (chunk as { usage?: unknown }).usage;
}

function isFinishChunk(chunk: unknown): boolean {
  return (chunk as { choices?: { finish_reason?: unknown }[] }).choices?.[0]?.finish_reason != null;
}

function trackStream(client: object, call: TrackedCall, kind: Kind, body: Body, data: unknown, askUsage: boolean, secrets: string[]): unknown {
  const stream = data as StreamLike | null;
  if (!stream || typeof stream[Symbol.asyncIterator] !== "function") {
    call.end({ usage: zeroUsageOf(call.description.model), usageReported: false, error: null });
    return data;
  }
  const model = call.description.model;
  const chunks = trackedChunks(() => stream[Symbol.asyncIterator](), {
    call,
    accumulator: (kind === "chat" ? new OpenAIStreamAccumulator(model) : new ResponsesStreamAccumulator(model)) as StreamAccumulator<unknown>,
    hide: askUsage ? isUsageOnlyChunk : undefined,
    hideAfter: askUsage ? isFinishChunk : undefined,
    tidy: askUsage ? dropNullUsage : undefined,
    isProviderError: (error) => isOpenAIError(client, error),
    aborted: () => stream.controller?.signal.aborted === true,
    estimatePrompt: () => estimatePrompt(kind, body, model),
    failureOf: kind === "responses" ? responsesFailure : undefined,
    secrets,
  });
  // The SDK's own Stream class (the caller's copy of openai), so tee(), toReadableStream() and
  // controller behave as they do on the stream we wrap.
  const StreamClass = stream.constructor as new (iterator: () => AsyncIterator<unknown>, controller: AbortController | undefined, client: object) => unknown;
  const wrapped = new StreamClass(chunks, stream.controller, client);
  // responses.create's own _thenUnwrap puts the request id on the Stream it returns: keep it.
  const requestId = (stream as { _request_id?: unknown })._request_id;
  if (requestId !== undefined) Object.defineProperty(wrapped, "_request_id", { value: requestId, enumerable: false });
  return wrapped;
}

/** The prompt's tokens as the tokenizer counts them, for a stream that ended before its usage report. */
function estimatePrompt(kind: Kind, body: Body, model: string): number {
  if (kind === "chat") {
    const messages = (Array.isArray(body.messages) ? body.messages : []).map((m: { role?: unknown; content?: unknown; tool_calls?: unknown }) => ({
      role: m.role,
      content: requestText(m.content).join("\n"),
      ...(Array.isArray(m.tool_calls) ? { tool_calls: m.tool_calls } : {}),
    })) as ChatMessage[];
    const tools = Array.isArray(body.tools) ? body.tools.filter((tool: { type?: unknown; function?: unknown }) => tool?.type === "function" && tool.function) : undefined;
    return estimatePromptTokens(messages, tools, model, "openai");
  }
  return estimateRequestTokens([body.instructions, body.input, body.tools], model, 3);
}
