// streamAndTrack end to end: the real SDKs over HTTP against the fake provider's streams,
// the producer, BullMQ, and the real usage worker writing llm_tracker_usage rows.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "@google/genai";
import { APIError, AuthenticationError } from "openai";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { configure, EmptyResponseError, flush, InvalidInputError, LLMTracker, StreamInterruptedError, type SettingsInput, type TrackedStream } from "../../src/index.js";
import { resetConfiguration } from "../../src/config/settings.js";
import { countTokens } from "../../src/estimate/count-tokens.js";
import { estimatePromptTokens } from "../../src/estimate/estimate-prompt-tokens.js";
import { createLogger } from "../../src/logger.js";
import type { ChatMessage, FunctionTool } from "../../src/providers/types.js";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { loadFixture, loadSse, startFakeProvider, type FakeProvider, type FakeStream } from "../fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { waitFor } from "../support/wait-for.js";

const API_KEYS = { openai: "sk-stream-openai-key-0123456789", azure: "azure-stream-key-0123456789", gemini: "AIzaStreamGeminiKey0123456789" };
const messages: ChatMessage[] = [{ role: "user", content: "hello" }];
let fake: FakeProvider;
let db: TestDatabase;
let sql: postgres.Sql;
let worker: UsageWorkerHandle;
let queueName: string;
let spoolDir: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

type Provider = "openai" | "azure" | "azure_v1" | "gemini";
const providers: Record<Provider, () => SettingsInput> = {
  openai: () => ({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: API_KEYS.openai, base_url: `${fake.url}/v1`, model: "gpt-4.1-mini" } }),
  azure: () => ({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: API_KEYS.azure, api_base: fake.url, deployment: "prod-gpt4o", api_version: "2024-10-21" } }),
  azure_v1: () => ({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: API_KEYS.azure, api_base: fake.url, deployment: "prod-gpt4o" } }),
  gemini: () => ({ LLM_PROVIDER: "gemini", GEMINI_CONFIG: { api_key: API_KEYS.gemini, base_url: fake.url, model: "gemini-2.5-flash" } }),
};

function use(provider: Provider) {
  configure({
    ...providers[provider](),
    LLM_MAX_RETRIES: 0,
    REDIS_URL: TEST_REDIS_URL,
    LLM_TRACKER_QUEUE: queueName,
    LLM_TRACKER_SPOOL_DIR: spoolDir,
    LLM_TRACKER_HANDLE_SIGNALS: false,
    LLM_TRACKER_LOG_LEVEL: "silent",
  });
}

/** The one row of a node (waits for it; fails if a second one appears by then). */
async function rowOf(nodeName: string) {
  await flush();
  let rows: postgres.Row[] = [];
  await waitFor(async () => (rows = await sql`select * from llm_tracker_usage where metadata->>'node_name' = ${nodeName}`).length > 0, 20_000, `row of ${nodeName}`);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** Iterates to the end, collecting the deltas and what the loop threw. */
async function readAll(stream: TrackedStream) {
  const deltas: string[] = [];
  let thrown: unknown;
  try {
    for await (const text of stream) deltas.push(text);
  } catch (error) {
    thrown = error;
  }
  return { deltas, thrown };
}

/** What `result` rejected with (fails when it resolved). */
async function rejection(stream: TrackedStream): Promise<unknown> {
  return stream.result.then(
    () => expect.unreachable("result resolved"),
    (error: unknown) => error,
  );
}

const streamOf = (name: string, extra: Partial<FakeStream> = {}) => ({ stream: { sse: loadSse(name), ...extra } });

function expectTimings(row: postgres.Row) {
  expect(row.time_to_first_token_ms).not.toBeNull();
  expect(row.time_to_first_token_ms).toBeGreaterThanOrEqual(0);
  expect(row.time_to_first_token_ms).toBeLessThanOrEqual(row.latency_ms);
}

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  fake = await startFakeProvider();
  db = await createTestDatabase();
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-stream-spool-"));
  worker = await startUsageWorker({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, batchSize: 100, flushMs: 10, logger: createLogger("silent") });
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterEach(async () => {
  // Let any stray rejection surface before judging.
  await new Promise((resolve) => setImmediate(resolve));
  expect(unhandled).toEqual([]);
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  const { shutdown } = await import("../../src/index.js");
  await shutdown();
  resetConfiguration();
  await worker?.close();
  await sql?.end();
  await db?.drop();
  await obliterateQueue(queueName);
  await fake?.close();
  await rm(spoolDir, { recursive: true, force: true });
});

describe("a full stream", () => {
  it.each([
    {
      provider: "openai" as const,
      sse: "openai/stream-basic",
      content: "Tides rise and fall because the Moon's gravity pulls on the oceans.",
      row: { model: "gpt-4.1-mini-2025-04-14", deployment: null, prompt_tokens: 18, completion_tokens: 14, total_tokens: 32 },
    },
    {
      provider: "azure" as const,
      sse: "azure/stream-prompt-filter",
      content: "Lisbon sits on the Tagus estuary.",
      row: { model: "gpt-4o-2024-11-20", deployment: "prod-gpt4o", prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 },
    },
    {
      provider: "azure_v1" as const,
      sse: "azure/stream-prompt-filter",
      content: "Lisbon sits on the Tagus estuary.",
      row: { model: "gpt-4o-2024-11-20", deployment: "prod-gpt4o", prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 },
    },
    {
      provider: "gemini" as const,
      sse: "gemini/stream-basic",
      content: "Rainbows form when sunlight is refracted, reflected and dispersed in raindrops.\n",
      // Every chunk reports promptTokenCount 9 (cumulative): 9, never 27.
      row: { model: "gemini-2.0-flash", deployment: null, prompt_tokens: 9, completion_tokens: 15, total_tokens: 24 },
    },
  ])("$provider: deltas in order, result = joined deltas + the reported usage, one streamed row", async ({ provider, sse, content, row }) => {
    use(provider);
    fake.enqueue(streamOf(sse, { eventDelayMs: 2 }));
    const node = `full-${provider}`;
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: node, state: { user_id: "u1" } });
    const { deltas, thrown } = await readAll(stream);
    expect(thrown).toBeUndefined();
    expect(deltas.length).toBeGreaterThan(1);
    const result = await stream.result;
    expect(result.content).toBe(deltas.join(""));
    expect(result.content).toBe(content);
    expect(result.toolCalls).toEqual([]);
    expect(result.usage).toMatchObject({ model: row.model, prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens, total_tokens: row.total_tokens });
    const stored = await rowOf(node);
    expect(stored).toMatchObject({ ...row, streamed: true, operation: "chat", success: true, error: null, usage_reported: true, user_id: "u1" });
    expectTimings(stored);
  });

  it("OpenAI and Azure requests ask for the usage chunk (the fake server answers 400 otherwise)", async () => {
    for (const provider of ["openai", "azure", "azure_v1"] as const) {
      use(provider);
      const before = fake.requests.length;
      const stream = await LLMTracker.streamAndTrack({ messages, nodeName: `asks-usage-${provider}` });
      await readAll(stream);
      await stream.result;
      expect(fake.requests[before]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    }
  });

  it("Gemini thinking: the answer without the thought summaries, thoughts as reasoning", async () => {
    use("gemini");
    fake.enqueue(streamOf("gemini/stream-thinking"));
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "gemini-thinking" });
    const { deltas } = await readAll(stream);
    expect(deltas.join("")).toBe("Water boils at 212 °F at sea level.");
    expect(await rowOf("gemini-thinking")).toMatchObject({ prompt_tokens: 12, completion_tokens: 215, reasoning_tokens: 203, total_tokens: 227, usage_reported: true });
  });

  it("Vertex style, usage only on the last chunk: the row has that usage", async () => {
    use("gemini");
    fake.enqueue(streamOf("gemini/stream-usage-last-only"));
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "vertex-last-only" });
    await readAll(stream);
    expect((await stream.result).content).toBe("Granite is an igneous rock rich in quartz and feldspar.");
    expect(await rowOf("vertex-last-only")).toMatchObject({ prompt_tokens: 8, completion_tokens: 13, total_tokens: 21, success: true, usage_reported: true });
  });

  it("awaiting result without iterating reads the stream itself", async () => {
    use("openai");
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "result-only" });
    expect((await stream.result).content).toBe("Tides rise and fall because the Moon's gravity pulls on the oceans.");
    expect(await rowOf("result-only")).toMatchObject({ success: true, total_tokens: 32 });
  });

  it("taking result before the loop (same turn) leaves the deltas to the loop", async () => {
    use("openai");
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "result-first" });
    const { result } = stream;
    const { deltas } = await readAll(stream);
    expect(deltas.join("")).toBe("Tides rise and fall because the Moon's gravity pulls on the oceans.");
    expect((await result).content).toBe(deltas.join(""));
  });

  it("Azure: a completion the content filter stopped throws EmptyResponseError at the end, recorded with estimated usage", async () => {
    use("azure");
    fake.enqueue(streamOf("azure/stream-content-filter"));
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "azure-filtered" });
    const { deltas, thrown } = await readAll(stream);
    expect(deltas.join("")).toBe("Here are the lyrics");
    expect(thrown).toBeInstanceOf(EmptyResponseError);
    expect((thrown as EmptyResponseError).reason).toBe("content_filter");
    expect(await rejection(stream)).toBe(thrown);
    const stored = await rowOf("azure-filtered");
    expect(stored).toMatchObject({ success: false, error: "LLM returned empty response (content_filter)", usage_reported: false, completion_tokens: countTokens("Here are the lyrics", "gpt-4o") });
  });
});

describe("a stream that ends early", () => {
  it.each(["openai", "gemini"] as const)("%s: the caller breaks after the first delta: one failed row, estimate from what was received, connection closed", async (provider) => {
    use(provider);
    const sse = provider === "openai" ? "openai/stream-basic" : "gemini/stream-basic";
    fake.enqueue(streamOf(sse, { cut: { after: 2, then: "stall" } }));
    const node = `break-${provider}`;
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: node });
    let first = "";
    for await (const text of stream) {
      first = text;
      break;
    }
    const error = await rejection(stream);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).reason).toBe("caller_stopped");
    // The stalled response would stay open forever had the request not been aborted.
    await waitFor(() => fake.openStreams() === 0, 10_000, "the stream's connection to close");
    const stored = await rowOf(node);
    expect(stored).toMatchObject({ success: false, streamed: true, error: "stream ended early: the caller stopped reading before the stream ended", usage_reported: false });
    expectTimings(stored);
    if (provider === "openai") {
      expect(first).toBe("Tides");
      expect(stored).toMatchObject({ prompt_tokens: estimatePromptTokens(messages, undefined, "gpt-4.1-mini", "openai"), completion_tokens: countTokens("Tides", "gpt-4.1-mini") });
    } else {
      // Gemini's last report counted the prompt (9) but not the answer: the answer is estimated.
      expect(first).toBe("Rainbows");
      expect(stored).toMatchObject({ prompt_tokens: 9, completion_tokens: countTokens("Rainbows", "gemini-2.0-flash") });
    }
  });

  it.each(["openai", "gemini"] as const)("%s: the caller's signal aborts midway: the loop throws its reason, result rejects with it, one failed row", async (provider) => {
    use(provider);
    const sse = provider === "openai" ? "openai/stream-basic" : "gemini/stream-basic";
    fake.enqueue(streamOf(sse, { cut: { after: 2, then: "stall" } }));
    const node = `signal-${provider}`;
    const controller = new AbortController();
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: node, signal: controller.signal });
    const deltas: string[] = [];
    let thrown: unknown;
    try {
      for await (const text of stream) {
        deltas.push(text);
        // Abort while the loop waits for a chunk the server will never send.
        if (deltas.length === 1) setTimeout(() => controller.abort(), 20);
      }
    } catch (error) {
      thrown = error;
    }
    // The two events sent: OpenAI's first is the role chunk, Gemini's carry text.
    expect(deltas).toEqual(provider === "openai" ? ["Tides"] : ["Rainbows", " form when sunlight is refracted"]);
    expect(thrown).toBe(controller.signal.reason);
    expect(await rejection(stream)).toBe(controller.signal.reason);
    await waitFor(() => fake.openStreams() === 0, 10_000, "the stream's connection to close");
    const stored = await rowOf(node);
    expect(stored).toMatchObject({ success: false, usage_reported: false });
    expect(stored.error).toBe("stream ended early: aborted by the caller's signal (DOMException: This operation was aborted)");
    expectTimings(stored);
  });

  it("a signal aborted while nobody reads ends the stream at once", async () => {
    use("openai");
    fake.enqueue(streamOf("openai/stream-basic", { cut: { after: 2, then: "stall" } }));
    const controller = new AbortController();
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "signal-unread", signal: controller.signal });
    controller.abort(new Error("user left the page"));
    expect(await rejection(stream)).toBe(controller.signal.reason);
    const stored = await rowOf("signal-unread");
    expect(stored.error).toBe("stream ended early: aborted by the caller's signal (Error: user left the page)");
    expect(stored.time_to_first_token_ms).toBeNull();
    // A later loop throws the reason once, then ends.
    await expect(stream.next()).rejects.toBe(controller.signal.reason);
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it.each(["openai", "gemini"] as const)("%s: the server drops the connection midway: the loop throws the SDK's error, recorded as connection lost", async (provider) => {
    use(provider);
    const sse = provider === "openai" ? "openai/stream-basic" : "gemini/stream-basic";
    fake.enqueue(streamOf(sse, { cut: { after: 2, then: "drop" }, eventDelayMs: 10 }));
    const node = `drop-${provider}`;
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: node });
    const { deltas, thrown } = await readAll(stream);
    expect(deltas.length).toBeGreaterThanOrEqual(1);
    expect(thrown).toBeInstanceOf(TypeError);
    expect(await rejection(stream)).toBe(thrown);
    const stored = await rowOf(node);
    expect(stored).toMatchObject({ success: false, usage_reported: false });
    expect(stored.error).toMatch(/^stream ended early: connection lost: TypeError: /);
    expectTimings(stored);
  });

  it("Gemini: the SDK's timeout (LLM_TIMEOUT_MS covers the whole response) ends a stalled stream, recorded as timed out", async () => {
    use("gemini");
    configure({ LLM_TIMEOUT_MS: 500 });
    try {
      fake.enqueue(streamOf("gemini/stream-basic", { cut: { after: 1, then: "stall" } }));
      const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "gemini-timeout" });
      const { deltas, thrown } = await readAll(stream);
      expect(deltas).toEqual(["Rainbows"]);
      expect((thrown as Error).name).toBe("AbortError");
      expect(await rejection(stream)).toBe(thrown);
      const stored = await rowOf("gemini-timeout");
      expect(stored.error).toMatch(/^stream ended early: timed out \(LLM_TIMEOUT_MS\): /);
      expect(stored).toMatchObject({ success: false, prompt_tokens: 9, usage_reported: false });
    } finally {
      configure({ LLM_TIMEOUT_MS: undefined });
    }
  });

  it("the response ends cleanly before the provider finished: StreamInterruptedError(connection_closed)", async () => {
    use("openai");
    fake.enqueue(streamOf("openai/stream-basic", { cut: { after: 4, then: "close" } }));
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "clean-cut" });
    const { deltas, thrown } = await readAll(stream);
    expect(deltas.join("")).toBe("Tides rise and");
    expect(thrown).toBeInstanceOf(StreamInterruptedError);
    expect((thrown as StreamInterruptedError).reason).toBe("connection_closed");
    expect(await rejection(stream)).toBe(thrown);
    expect(await rowOf("clean-cut")).toMatchObject({
      success: false,
      error: "stream ended early: the connection closed before the provider finished the stream",
      usage_reported: false,
      completion_tokens: countTokens("Tides rise and", "gpt-4.1-mini"),
    });
  });

  it.each([
    { provider: "openai" as const, sse: "openai/stream-error-midway", type: APIError, message: /^stream ended early: provider error: APIError: The server had an error while processing your request/ },
    { provider: "gemini" as const, sse: "gemini/stream-error-midway", type: ApiError, message: /^stream ended early: provider error: ApiError \(status 503\): got status: UNAVAILABLE/ },
  ])("$provider: a provider error event midway: the loop throws it, recorded with the usage reported or estimated", async ({ provider, sse, type, message }) => {
    use(provider);
    fake.enqueue(streamOf(sse, { eventDelayMs: 5 }));
    const node = `error-midway-${provider}`;
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: node });
    const { deltas, thrown } = await readAll(stream);
    expect(thrown).toBeInstanceOf(type);
    expect(await rejection(stream)).toBe(thrown);
    const stored = await rowOf(node);
    expect(stored).toMatchObject({ success: false, usage_reported: false });
    expect(stored.error).toMatch(message);
    const received = deltas.join("");
    expect(stored.completion_tokens).toBe(countTokens(received, provider === "openai" ? "gpt-4.1-mini" : "gemini-2.0-flash"));
    // Gemini reported the prompt on every chunk before the error; OpenAI reports nothing before the end.
    expect(stored.prompt_tokens).toBe(provider === "gemini" ? 7 : estimatePromptTokens(messages, undefined, "gpt-4.1-mini", "openai"));
  });

  it("a 401 before the stream: the await throws the SDK's error, recorded like callAndTrack (no secret)", async () => {
    use("openai");
    fake.enqueue({ status: 401, body: loadFixture("openai/error-401-invalid-api-key") });
    await expect(LLMTracker.streamAndTrack({ messages, nodeName: "auth-401" })).rejects.toBeInstanceOf(AuthenticationError);
    const stored = await rowOf("auth-401");
    expect(stored).toMatchObject({ success: false, streamed: true, time_to_first_token_ms: null, total_tokens: 0, usage_reported: false });
    expect(stored.error).toMatch(/^AuthenticationError \(status 401\): /);
    expect(stored.error).not.toContain(API_KEYS.openai);
  });
});

describe("tools", () => {
  const weather: FunctionTool = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } } } } };

  it.each([
    { provider: "openai" as const, sse: "openai/stream-tool-calls", id: "call_Wx4kP9sLq2VbN7cR1tYe", usage: { prompt_tokens: 84, completion_tokens: 19 } },
    { provider: "gemini" as const, sse: "gemini/stream-function-call", id: expect.stringMatching(/^llmt_call_/), usage: { prompt_tokens: 58, completion_tokens: 65 } },
  ])("$provider: a stream with tool calls only is a success: no text deltas, arguments assembled, TTFT at the first tool-call delta", async ({ provider, sse, id, usage }) => {
    use(provider);
    fake.enqueue(streamOf(sse, { eventDelayMs: 1 }));
    const node = `tools-only-${provider}`;
    const stream = await LLMTracker.streamAndTrack({ messages, tools: [weather], toolChoice: "required", nodeName: node });
    const { deltas, thrown } = await readAll(stream);
    expect(thrown).toBeUndefined();
    expect(deltas).toEqual([]);
    const result = await stream.result;
    expect(result.content).toBe("");
    expect(result.toolCalls).toEqual([expect.objectContaining({ id, name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' })]);
    const stored = await rowOf(node);
    expect(stored).toMatchObject({ success: true, error: null, usage_reported: true, ...usage });
    expectTimings(stored);
  });

  it("callAndTrack: an answer with tool calls and no text is a success", async () => {
    use("openai");
    fake.enqueue({ body: loadFixture("openai/chat-completion-tool-calls") });
    const result = await LLMTracker.callAndTrack({ messages, tools: [weather], nodeName: "call-tools-only" });
    expect(result).toMatchObject({ content: "", toolCalls: [{ id: "call_Hj2kL4mN6pQ8rS0tU2vW", name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' }] });
    expect(await rowOf("call-tools-only")).toMatchObject({ success: true, streamed: false, time_to_first_token_ms: null, prompt_tokens: 84 });
  });

  it("Gemini: call arguments that are not a JSON object throw InvalidInputError; nothing is sent or recorded", async () => {
    use("gemini");
    const before = fake.requests.length;
    const bad: ChatMessage[] = [
      { role: "user", content: "hi" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", name: "get_weather", arguments: "not json" }] },
      { role: "tool", tool_call_id: "c1", content: "19" },
    ];
    await expect(LLMTracker.streamAndTrack({ messages: bad, nodeName: "bad-args" })).rejects.toThrow("messages[1].tool_calls[0].arguments: is not JSON text");
    await expect(LLMTracker.callAndTrack({ messages: bad, nodeName: "bad-args" })).rejects.toThrow(InvalidInputError);
    expect(fake.requests.length).toBe(before);
    await flush();
    LLMTracker.record({ usage: { model: "marker", prompt_tokens: 1, completion_tokens: 1 }, nodeName: "bad-args-marker" });
    await rowOf("bad-args-marker"); // written after anything handed over before it
    expect((await sql`select count(*)::int as n from llm_tracker_usage where metadata->>'node_name' = 'bad-args'`)[0]!.n).toBe(0);
  });

  it.each([
    { provider: "openai" as const, first: "openai/stream-tool-calls", second: "openai/stream-after-tool-results", answer: "It is 19°C in Lisbon." },
    { provider: "gemini" as const, first: "gemini/stream-function-call", second: "gemini/stream-after-function-response", answer: "It is 19 °C in Lisbon right now." },
  ])("$provider: a tool loop of two streamed calls, the tool result sent back by its call", async ({ provider, first, second, answer }) => {
    use(provider);
    fake.enqueue(streamOf(first), streamOf(second));
    const before = fake.requests.length;
    const node = `tool-loop-${provider}`;
    const conversation: ChatMessage[] = [{ role: "user", content: "Weather in Lisbon?" }];

    const round1 = await LLMTracker.streamAndTrack({ messages: conversation, tools: [weather], nodeName: node });
    await readAll(round1);
    const { content, toolCalls } = await round1.result;
    conversation.push({ role: "assistant", content, tool_calls: toolCalls });
    for (const call of toolCalls) conversation.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify({ temp_c: 19, city: JSON.parse(call.arguments).city }) });

    const round2 = await LLMTracker.streamAndTrack({ messages: conversation, tools: [weather], nodeName: node });
    const { deltas } = await readAll(round2);
    expect(deltas.join("")).toBe(answer);
    expect((await round2.result).toolCalls).toEqual([]);

    const sent = fake.requests[before + 1]?.body as Record<string, unknown>;
    if (provider === "openai") {
      expect(sent.messages).toEqual([
        { role: "user", content: "Weather in Lisbon?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_Wx4kP9sLq2VbN7cR1tYe", type: "function", function: { name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' } }] },
        { role: "tool", tool_call_id: "call_Wx4kP9sLq2VbN7cR1tYe", content: '{"temp_c":19,"city":"Lisbon"}' },
      ]);
    } else {
      expect(sent.contents).toEqual([
        { role: "user", parts: [{ text: "Weather in Lisbon?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Lisbon", unit: "celsius" } }, thoughtSignature: "CpUBAdHtim8xQk2LtS0vNq4r7YdW1mZc3pT9eRb6uJgA5sHfK0oE8iPxVnC2yL7dM4qU" }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp_c: 19, city: "Lisbon" } } }] },
      ]);
    }
    await flush();
    let rows: postgres.Row[] = [];
    await waitFor(async () => (rows = await sql`select * from llm_tracker_usage where metadata->>'node_name' = ${node} order by created_at`).length === 2, 20_000, "both rounds' rows");
    expect(rows.map((r) => [r.success, r.streamed])).toEqual([
      [true, true],
      [true, true],
    ]);
  });
});

describe("shutdown() while a stream is open", () => {
  it("ends the stream, hands its event over, and a pending read throws the interruption", async () => {
    use("openai");
    fake.enqueue(streamOf("openai/stream-basic", { cut: { after: 3, then: "stall" } }));
    const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "at-shutdown" });
    expect(await stream.next()).toEqual({ done: false, value: "Tides" });
    expect(await stream.next()).toEqual({ done: false, value: " rise" });
    // A read waiting for a chunk the stalled server will never send.
    const reading = readAll(stream);
    const { shutdown } = await import("../../src/index.js");
    await shutdown();
    const { deltas, thrown } = await reading;
    expect(deltas).toEqual([]);
    expect(thrown).toBeInstanceOf(StreamInterruptedError);
    expect((thrown as StreamInterruptedError).reason).toBe("shutdown");
    expect(await rejection(stream)).toBe(thrown);
    expect(await rowOf("at-shutdown")).toMatchObject({ success: false, error: "stream ended early: shutdown() was called before the stream ended", usage_reported: false });
  });
});
