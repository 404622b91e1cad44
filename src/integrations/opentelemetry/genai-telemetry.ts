// The OpenTelemetry side of a tracked call: a span and two metrics named by the GenAI
// semantic conventions. `@opentelemetry/api` is an optional peer dependency, loaded on the
// first tracked call; when it is missing, or no SDK is registered, this costs a no-op.
import { createRequire } from "node:module";
import type { Usage } from "../../token-usage.js";

// The few parts of @opentelemetry/api used here, typed locally so that llm-tracker's own
// type declarations do not name a package the user may not have installed.
interface OtelSpan {
  isRecording(): boolean;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setAttributes(attributes: Record<string, string | number | boolean>): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface OtelHistogram {
  record(value: number, attributes?: Record<string, string | number>): void;
}
interface OtelMeter {
  createHistogram(name: string, options: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } }): OtelHistogram;
}
interface OtelApi {
  trace: {
    getTracerProvider(): { getDelegate?(): object };
    getTracer(name: string, version?: string): { startSpan(name: string, options: { kind: number; attributes: Record<string, string | boolean> }): OtelSpan };
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  metrics: { getMeterProvider(): { getMeter(name: string, version?: string): OtelMeter } };
  SpanKind: { CLIENT: number };
  SpanStatusCode: { ERROR: number };
}

const INSTRUMENTATION = "llm-tracker";

let api: OtelApi | null | undefined;

// Where @opentelemetry/api (any 1.x copy, ESM or CJS) keeps what an SDK registered.
const OTEL_GLOBAL = Symbol.for("opentelemetry.js.api.1");

/** Whether any OpenTelemetry SDK registered a tracer or meter provider in this process: one property read. */
function somethingRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown; metrics?: unknown } | undefined>)[OTEL_GLOBAL];
  return registry !== undefined && (registry.trace !== undefined || registry.metrics !== undefined);
}

/**
 * @opentelemetry/api when an SDK registered something and the package is installed (loaded
 * once, synchronously, on the first such call), else null: without a registered SDK the
 * package is not even loaded.
 */
function otel(): OtelApi | null {
  if (!somethingRegistered()) return null;
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

/** What the telemetry of one call is named by. */
export interface GenAiCall {
  /** Our provider name (`openai`, `azure_openai`, `gemini`, or the AI SDK provider). */
  provider: string;
  /** `chat` or `embeddings`. */
  operation: string;
  /** The model asked for. */
  requestModel: string;
  streamed: boolean;
}

/** How the call ended, for its span and metrics. */
export interface GenAiCallEnd {
  /** The model the response reported (usage.model). */
  responseModel: string;
  usage: Usage;
  usageReported: boolean;
  /** The event's (redacted) error text; null when the call succeeded. */
  error: string | null;
  /** What was thrown, when something was: its class names `error.type`. */
  thrown?: unknown;
  durationMs: number;
}

// The semantic conventions' provider names for ours (gen_ai.provider.name).
const PROVIDER_NAMES: Record<string, string> = { openai: "openai", azure_openai: "azure.ai.openai", gemini: "gcp.gemini" };

export function genAiProviderName(provider: string): string {
  return PROVIDER_NAMES[provider] ?? provider;
}

// Bucket boundaries the conventions advise for these two histograms.
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

interface Instruments {
  provider: object;
  tokens: OtelHistogram;
  duration: OtelHistogram;
}
let instruments: Instruments | undefined;

/** The histograms of the current global MeterProvider (remade when another one is registered). */
function histograms(otelApi: OtelApi): Instruments | null {
  const provider = otelApi.metrics.getMeterProvider();
  if (provider.constructor?.name === "NoopMeterProvider") return null;
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter(INSTRUMENTATION);
    instruments = {
      provider,
      tokens: meter.createHistogram("gen_ai.client.token.usage", { description: "Number of input and output tokens used.", unit: "{token}", advice: { explicitBucketBoundaries: TOKEN_BUCKETS } }),
      duration: meter.createHistogram("gen_ai.client.operation.duration", { description: "GenAI operation duration.", unit: "s", advice: { explicitBucketBoundaries: DURATION_BUCKETS } }),
    };
  }
  return instruments;
}

/** Whether an SDK registered a tracer provider (the API's global proxy then delegates to something other than its no-op). */
function tracingRegistered(otelApi: OtelApi): boolean {
  const delegate = otelApi.trace.getTracerProvider().getDelegate?.();
  return delegate === undefined || delegate.constructor?.name !== "NoopTracerProvider";
}

function errorType(thrown: unknown): string {
  if (thrown instanceof Error) {
    const status = (thrown as { status?: unknown }).status ?? (thrown as { statusCode?: unknown }).statusCode;
    if (typeof status === "number") return String(status);
    return thrown.constructor?.name && thrown.constructor.name !== "Object" ? thrown.constructor.name : thrown.name;
  }
  return "_OTHER";
}

/** The telemetry of one call: started with the call, ended once with it. */
export class GenAiTelemetry {
  private constructor(
    private readonly otelApi: OtelApi,
    private readonly call: GenAiCall,
    private readonly span: OtelSpan,
  ) {}

  /**
   * Starts the call's span (a CLIENT span named `{operation} {model}`); null when
   * @opentelemetry/api is not installed, or no tracer provider nor meter provider is registered.
   */
  static start(call: GenAiCall): GenAiTelemetry | null {
    const otelApi = otel();
    if (!otelApi || (!tracingRegistered(otelApi) && histograms(otelApi) === null)) return null;
    const span = otelApi.trace.getTracer(INSTRUMENTATION).startSpan(`${call.operation} ${call.requestModel}`, {
      kind: otelApi.SpanKind.CLIENT,
      attributes: {
        "gen_ai.operation.name": call.operation,
        "gen_ai.provider.name": genAiProviderName(call.provider),
        "gen_ai.request.model": call.requestModel,
      },
    });
    return new GenAiTelemetry(otelApi, call, span);
  }

  /** Runs `fn` with the call's span active, so the SDK's HTTP spans (if instrumented) are its children. */
  run<T>(fn: () => T): T {
    if (!this.span.isRecording()) return fn();
    return this.otelApi.context.with(this.otelApi.trace.setSpan(this.otelApi.context.active(), this.span), fn);
  }

  /** Ends the span of a call that never reached the provider: failed, no metrics. */
  abandon(thrown: unknown, message: string): void {
    if (this.span.isRecording()) {
      this.span.setAttribute("error.type", errorType(thrown));
      this.span.setStatus({ code: this.otelApi.SpanStatusCode.ERROR, message });
    }
    this.span.end();
  }

  end(end: GenAiCallEnd): void {
    const failedType = end.error === null ? undefined : end.thrown === undefined ? "_OTHER" : errorType(end.thrown);
    if (this.span.isRecording()) {
      this.span.setAttributes({
        "gen_ai.response.model": end.responseModel,
        "gen_ai.usage.input_tokens": end.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": end.usage.completion_tokens,
      });
      if (failedType !== undefined) {
        this.span.setAttribute("error.type", failedType);
        this.span.setStatus({ code: this.otelApi.SpanStatusCode.ERROR, message: end.error ?? undefined });
      }
    }
    this.span.end();
    const meters = histograms(this.otelApi);
    if (!meters) return;
    const attributes: Record<string, string> = {
      "gen_ai.operation.name": this.call.operation,
      "gen_ai.provider.name": genAiProviderName(this.call.provider),
      "gen_ai.request.model": this.call.requestModel,
      "gen_ai.response.model": end.responseModel,
    };
    meters.duration.record(end.durationMs / 1000, failedType === undefined ? attributes : { ...attributes, "error.type": failedType });
    if (end.usageReported || end.usage.total_tokens > 0) {
      meters.tokens.record(end.usage.prompt_tokens, { ...attributes, "gen_ai.token.type": "input" });
      meters.tokens.record(end.usage.completion_tokens, { ...attributes, "gen_ai.token.type": "output" });
    }
  }
}
