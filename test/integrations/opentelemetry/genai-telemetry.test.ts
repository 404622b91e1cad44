// Spans and metrics of tracked calls, checked with the OpenTelemetry SDK's in-memory exporters:
// wrapped calls (OpenAI, Gemini) and LLMTracker's own, named by the GenAI semantic conventions.
import { GoogleGenAI } from "@google/genai";
import { context, metrics, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LLMTracker, trackGemini, trackOpenAI } from "../../../src/index.js";
import { loadFixture } from "../../fake-provider/fake-provider.js";
import { startHarness, type Harness } from "../support/usage-rows-harness.js";

const API_KEY = "sk-otel-key-0123456789";
let h: Harness;
const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const contextManager = new AsyncLocalStorageContextManager();
const messages = [{ role: "user" as const, content: "hi" }];
/** The span active while the SDK sent each request (seen by the client's fetch). */
const activeAtFetch: (string | undefined)[] = [];

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  h = await startHarness();
  h.configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: API_KEY, base_url: `${h.fake.url}/v1`, model: "gpt-4.1-mini" }, LLM_MAX_RETRIES: 0 });
});
beforeEach(async () => {
  spans.reset();
  await reader.forceFlush();
  metricExporter.reset();
});
afterAll(async () => {
  await h?.close();
  trace.disable();
  metrics.disable();
  context.disable();
});

const openai = () =>
  trackOpenAI(
    new OpenAI({
      apiKey: API_KEY,
      baseURL: `${h.fake.url}/v1`,
      maxRetries: 0,
      fetch: (url, init) => {
        activeAtFetch.push(trace.getActiveSpan()?.spanContext().spanId);
        return fetch(url, init);
      },
    }),
    { nodeName: "otel" },
  );

function only(name: string): ReadableSpan {
  const found = spans.getFinishedSpans().filter((span) => span.name === name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
}

async function histogram(name: string): Promise<HistogramMetricData | undefined> {
  await reader.forceFlush();
  for (const batch of metricExporter.getMetrics()) {
    for (const scope of batch.scopeMetrics) {
      const found = scope.metrics.find((metric) => metric.descriptor.name === name);
      if (found) return found as HistogramMetricData;
    }
  }
  return undefined;
}

describe("spans", () => {
  it("a wrapped chat completion: a CLIENT span `chat {model}` with the GenAI attributes, active while the SDK sends", async () => {
    activeAtFetch.length = 0;
    await openai().chat.completions.create({ model: "gpt-4.1-mini", messages });
    const span = only("chat gpt-4.1-mini");
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe("llm-tracker");
    expect(span.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4.1-mini",
      "gen_ai.response.model": "gpt-4.1-mini-2025-04-14",
      "gen_ai.usage.input_tokens": 19,
      "gen_ai.usage.output_tokens": 9,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(activeAtFetch).toEqual([span.spanContext().spanId]);
  });

  it("a failed call: status ERROR with the redacted error text, error.type the HTTP status", async () => {
    h.fake.enqueue({ status: 429, body: loadFixture("openai/error-429-rate-limit") });
    await expect(openai().chat.completions.create({ model: "gpt-4.1-mini", messages })).rejects.toThrow();
    const span = only("chat gpt-4.1-mini");
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toMatch(/^RateLimitError \(status 429\)/);
    expect(span.attributes["error.type"]).toBe("429");
  });

  it("embeddings and streams are named by their operation; a stream's span ends when the stream does", async () => {
    const client = openai();
    await client.embeddings.create({ model: "text-embedding-ada-002", input: "hello" });
    expect(only("embeddings text-embedding-ada-002").attributes).toMatchObject({ "gen_ai.operation.name": "embeddings", "gen_ai.usage.input_tokens": 8, "gen_ai.usage.output_tokens": 0 });
    const stream = await client.chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true });
    expect(spans.getFinishedSpans().filter((span) => span.name === "chat gpt-4.1-mini")).toHaveLength(0);
    for await (const _ of stream);
    expect(only("chat gpt-4.1-mini").attributes).toMatchObject({ "gen_ai.usage.input_tokens": 18, "gen_ai.usage.output_tokens": 14 });
  });

  it("Gemini calls carry gen_ai.provider.name gcp.gemini", async () => {
    const ai = trackGemini(new GoogleGenAI({ apiKey: "AIzaOtelGeminiKey0123456789", httpOptions: { baseUrl: h.fake.url, retryOptions: { attempts: 1 } } }));
    await ai.models.generateContent({ model: "gemini-2.0-flash", contents: "hi" });
    expect(only("chat gemini-2.0-flash").attributes).toMatchObject({ "gen_ai.provider.name": "gcp.gemini", "gen_ai.usage.input_tokens": 6, "gen_ai.usage.output_tokens": 9 });
  });

  it("LLMTracker.callAndTrack and streamAndTrack make the same spans", async () => {
    await LLMTracker.callAndTrack({ messages, nodeName: "otel-own" });
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "otel-own" });
    for await (const _ of stream);
    const own = spans.getFinishedSpans().filter((span) => span.name === "chat gpt-4.1-mini");
    expect(own).toHaveLength(2);
    expect(own.map((span) => span.attributes["gen_ai.usage.input_tokens"]).sort()).toEqual([18, 19]);
    expect(own.every((span) => span.attributes["gen_ai.provider.name"] === "openai")).toBe(true);
  });
});

describe("metrics", () => {
  it("gen_ai.client.token.usage (input/output) and gen_ai.client.operation.duration (s), per call", async () => {
    const client = openai();
    await client.chat.completions.create({ model: "gpt-4.1-mini", messages });
    await client.chat.completions.create({ model: "gpt-4.1-mini", messages });
    const tokens = await histogram("gen_ai.client.token.usage");
    expect(tokens?.descriptor.unit).toBe("{token}");
    const byType = Object.fromEntries(tokens!.dataPoints.map((point) => [point.attributes["gen_ai.token.type"], point.value]));
    expect(byType.input).toMatchObject({ count: 2, sum: 38 });
    expect(byType.output).toMatchObject({ count: 2, sum: 18 });
    expect(tokens!.dataPoints[0]!.attributes).toMatchObject({ "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4.1-mini", "gen_ai.response.model": "gpt-4.1-mini-2025-04-14" });
    const duration = await histogram("gen_ai.client.operation.duration");
    expect(duration?.descriptor.unit).toBe("s");
    expect(duration!.dataPoints).toHaveLength(1);
    expect(duration!.dataPoints[0]!.value.count).toBe(2);
  });
});
