// trackOpenAI end to end: real OpenAI / AzureOpenAI clients over HTTP against the fake
// provider, the producer, BullMQ and the real usage worker writing llm_tracker_usage rows.
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import OpenAI, { AzureOpenAI, RateLimitError } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { trackOpenAI } from "../../../src/index.js";
import { createLogger } from "../../../src/logger.js";
import { pendingRecordCount } from "../../../src/usage/deferred-recording.js";
import { UsageProducer } from "../../../src/usage/producer.js";
import { TEST_REDIS_URL } from "../../support/services.js";
import { loadFixture, loadSse } from "../../fake-provider/fake-provider.js";
import { waitFor } from "../../support/wait-for.js";
import { startHarness, watchUnhandled, type Harness } from "../support/usage-rows-harness.js";

const API_KEY = "sk-wrapped-openai-key-0123456789";
let h: Harness;
const unhandled = watchUnhandled();
const messages = [{ role: "user" as const, content: "How do tides work?" }];

const bare = () => new OpenAI({ apiKey: API_KEY, baseURL: `${h.fake.url}/v1`, maxRetries: 0 });
const tracked = (nodeName: string, userId = "u-1") => trackOpenAI(bare(), { nodeName, state: { user_id: userId, source_type: "api" } });

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await new Promise((resolve) => setImmediate(resolve));
  expect(unhandled.list).toEqual([]);
});
afterAll(async () => {
  unhandled.stop();
  await h?.close();
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe("chat.completions.create", () => {
  it("returns what the bare client returns and records one row with the response's usage", async () => {
    const expected = await bare().chat.completions.create({ model: "gpt-4.1-mini", messages });
    const answer = await tracked("chat-plain").chat.completions.create({ model: "gpt-4.1-mini", messages });
    expect(answer).toEqual(expected);
    expect(answer._request_id).toBe(expected._request_id);
    const row = await h.rowOf("chat-plain");
    expect(row).toMatchObject({
      provider: "openai",
      model: "gpt-4.1-mini-2025-04-14",
      deployment: null,
      prompt_tokens: 19,
      completion_tokens: 9,
      total_tokens: 28,
      usage_reported: true,
      success: true,
      error: null,
      user_id: "u-1",
      streamed: false,
      time_to_first_token_ms: null,
      operation: "chat",
    });
    expect(row.metadata).toMatchObject({ node_name: "chat-plain", source_type: "api" });
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("keeps the APIPromise: .withResponse() gives data, Response and request id, recorded once", async () => {
    const client = tracked("chat-with-response");
    const { data, response, request_id } = await client.chat.completions.create({ model: "gpt-4.1-mini", messages }).withResponse();
    expect(data.choices[0]!.message.content).toBe((loadFixture("openai/chat-completion-basic") as { choices: { message: { content: string } }[] }).choices[0]!.message.content);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(request_id).toBe(response.headers.get("x-request-id"));
    const row = await h.rowOf("chat-with-response");
    expect(row).toMatchObject({ prompt_tokens: 19, completion_tokens: 9, success: true });
  });

  it(".asResponse() leaves the body to the caller and still records the call's usage", async () => {
    const response = await tracked("chat-as-response").chat.completions.create({ model: "gpt-4.1-mini", messages }).asResponse();
    const body = (await response.json()) as { usage: { total_tokens: number } };
    expect(body.usage.total_tokens).toBe(28);
    const row = await h.rowOf("chat-as-response");
    expect(row).toMatchObject({ prompt_tokens: 19, completion_tokens: 9, total_tokens: 28, usage_reported: true, success: true });
  });

  it("chat.completions.parse() works through the wrapper (parsed JSON) and is recorded once", async () => {
    h.fake.enqueue({ body: loadFixture("openai/chat-completion-json-object") });
    const client = tracked("chat-parse");
    const parsed = await client.chat.completions.parse({
      model: "gpt-4o-mini",
      messages,
      response_format: {
        type: "json_schema",
        json_schema: { name: "city", strict: true, schema: { type: "object", properties: { city: { type: "string" }, country: { type: "string" }, population: { type: "number" } }, required: ["city", "country", "population"], additionalProperties: false } },
      },
    });
    expect(parsed.choices[0]!.message.parsed).toEqual({ city: "Lisbon", country: "Portugal", population: 545923 });
    const row = await h.rowOf("chat-parse");
    expect(row).toMatchObject({ model: "gpt-4o-mini-2024-07-18", prompt_tokens: 41, completion_tokens: 17, total_tokens: 58 });
  });

  it("a 429 reaches the caller as the SDK's own RateLimitError and is recorded as failed, without the key", async () => {
    h.fake.enqueue({ status: 429, body: loadFixture("openai/error-429-rate-limit") });
    let thrown: unknown;
    try {
      await tracked("chat-429").chat.completions.create({ model: "gpt-4.1-mini", messages });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RateLimitError);
    expect((thrown as RateLimitError).status).toBe(429);
    const row = await h.rowOf("chat-429");
    expect(row).toMatchObject({ success: false, model: "gpt-4.1-mini", prompt_tokens: 0, total_tokens: 0, usage_reported: false, operation: "chat" });
    expect(row.error).toMatch(/^RateLimitError \(status 429\): 429 Rate limit reached/);
    expect(row.error).not.toContain(API_KEY);
  });

  it("a request nobody awaits past .asResponse() that fails is still recorded", async () => {
    h.fake.enqueue({ status: 500, body: loadFixture("openai/error-500-server-error") });
    await expect(tracked("chat-500-as-response").chat.completions.create({ model: "gpt-4.1-mini", messages }).asResponse()).rejects.toMatchObject({ status: 500 });
    const row = await h.rowOf("chat-500-as-response");
    expect(row).toMatchObject({ success: false });
    expect(row.error).toMatch(/status 500/);
  });

  it("tracks only the client it was given (the prototype is untouched), and tracking twice records once", async () => {
    const client = tracked("chat-once");
    trackOpenAI(client, { nodeName: "chat-once", state: { user_id: "u-2" } });
    await client.chat.completions.create({ model: "gpt-4.1-mini", messages });
    await bare().chat.completions.create({ model: "gpt-4.1-mini", messages });
    const row = await h.rowOf("chat-once");
    expect(row.user_id).toBe("u-2"); // the second call replaced the defaults
    expect(Object.prototype.hasOwnProperty.call(OpenAI.Chat.Completions.prototype, "create")).toBe(true);
    expect(client.chat.completions.create).not.toBe(OpenAI.Chat.Completions.prototype.create);
  });
});

describe("streamed chat completions", () => {
  it("asks for usage when the caller did not, and hides the usage-only chunk and the usage keys from the caller", async () => {
    const client = tracked("stream-no-usage");
    const stream = await client.chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true });
    const chunks = await collect(stream);
    // The fake provider refuses a stream without include_usage: it came through, so the wrapper asked.
    const request = h.fake.requests.at(-1)!;
    expect((request.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
    expect(chunks.every((chunk) => !("usage" in chunk))).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? "").join("")).toBe("Tides rise and fall because the Moon's gravity pulls on the oceans.");
    const row = await h.rowOf("stream-no-usage");
    expect(row).toMatchObject({ model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 18, completion_tokens: 14, total_tokens: 32, usage_reported: true, success: true, streamed: true, operation: "chat" });
    expect(row.time_to_first_token_ms).not.toBeNull();
    expect(row.time_to_first_token_ms).toBeLessThanOrEqual(row.latency_ms);
  });

  it("passes every chunk, the usage chunk included, when the caller asked for usage itself", async () => {
    const expected = await collect(await bare().chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true, stream_options: { include_usage: true } }));
    const chunks = await collect(await tracked("stream-own-usage").chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true, stream_options: { include_usage: true } }));
    expect(chunks).toEqual(expected);
    expect(chunks.at(-1)!.usage?.total_tokens).toBe(32);
    await h.rowOf("stream-own-usage");
  });

  it("keeps the SDK's Stream: .withResponse(), tee() and controller work", async () => {
    const { data: stream, response } = await tracked("stream-tee").chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true }).withResponse();
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(stream.controller).toBeInstanceOf(AbortController);
    const [left, right] = stream.tee();
    const [a, b] = await Promise.all([collect(left), collect(right)]);
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(10);
    const row = await h.rowOf("stream-tee");
    expect(row).toMatchObject({ prompt_tokens: 18, completion_tokens: 14, success: true });
  });

  it("a caller that breaks after the first delta gets one failed row with an estimate, and the connection closes", async () => {
    h.fake.enqueue({ stream: { sse: loadSse("openai/stream-basic"), eventDelayMs: 20 } });
    const stream = await tracked("stream-break").chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true });
    let seen = "";
    for await (const chunk of stream) {
      seen += chunk.choices[0]?.delta.content ?? "";
      if (seen !== "") break;
    }
    await waitFor(() => h.fake.openStreams() === 0, 5_000, "the stream's connection to close");
    const row = await h.rowOf("stream-break");
    expect(row).toMatchObject({ success: false, usage_reported: false, streamed: true });
    expect(row.error).toBe("stream ended early: the caller stopped reading before the stream ended");
    expect(row.prompt_tokens).toBeGreaterThan(0); // estimated from the messages
    expect(row.completion_tokens).toBeGreaterThan(0); // estimated from the text received
  });

  it("a provider error midway is thrown to the caller as the SDK throws it, recorded once as a provider error", async () => {
    h.fake.enqueue({ stream: { sse: loadSse("openai/stream-error-midway") } });
    const stream = await tracked("stream-error").chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true });
    await expect(collect(stream)).rejects.toBeInstanceOf(OpenAI.APIError);
    const row = await h.rowOf("stream-error");
    expect(row.success).toBe(false);
    expect(row.error).toMatch(/^stream ended early: provider error: /);
  });

  it("a 429 before the stream is recorded as failed and rethrown untouched", async () => {
    h.fake.enqueue({ status: 429, body: loadFixture("openai/error-429-rate-limit") });
    await expect(tracked("stream-429").chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true })).rejects.toBeInstanceOf(RateLimitError);
    const row = await h.rowOf("stream-429");
    expect(row).toMatchObject({ success: false, streamed: true, time_to_first_token_ms: null });
  });
});

describe("responses.create", () => {
  it("records input/output tokens with cached and reasoning details; output_text still works", async () => {
    const response = await tracked("responses-plain").responses.create({ model: "gpt-5-mini", input: "Find the file." });
    expect(response.output_text).toBe((await bare().responses.create({ model: "gpt-5-mini", input: "Find the file." })).output_text);
    const row = await h.rowOf("responses-plain");
    expect(row).toMatchObject({ model: "gpt-5-mini-2025-08-07", prompt_tokens: 3700, completion_tokens: 741, total_tokens: 4441, cached_tokens: 2560, reasoning_tokens: 640, usage_reported: true, success: true, operation: "chat", streamed: false });
  });

  it("streamed: every event passes, the usage of response.completed is recorded", async () => {
    const expected = await collect(await bare().responses.create({ model: "gpt-5.2", input: "Which arch?", stream: true }));
    const events = await collect(await tracked("responses-stream").responses.create({ model: "gpt-5.2", input: "Which arch?", stream: true }));
    expect(events).toEqual(expected);
    const row = await h.rowOf("responses-stream");
    expect(row).toMatchObject({ model: "gpt-5.2-2025-12-11", prompt_tokens: 802, completion_tokens: 20, total_tokens: 822, usage_reported: true, success: true, streamed: true });
    expect(row.time_to_first_token_ms).not.toBeNull();
  });

  it("responses.stream() (the SDK helper) is tracked through responses.create", async () => {
    const runner = tracked("responses-helper").responses.stream({ model: "gpt-5.2", input: "Which arch?" });
    const final = await runner.finalResponse();
    expect(final.output_text).toBe("The architecture is **x86_64** (64-bit Intel/AMD).");
    const row = await h.rowOf("responses-helper");
    expect(row).toMatchObject({ prompt_tokens: 802, completion_tokens: 20, streamed: true, success: true });
  });
});

describe("embeddings.create", () => {
  it("records prompt tokens only, operation embeddings; the base64 vectors decode as without the wrapper", async () => {
    const expected = await bare().embeddings.create({ model: "text-embedding-ada-002", input: "hello" });
    const result = await tracked("embeddings").embeddings.create({ model: "text-embedding-ada-002", input: "hello" });
    expect(result).toEqual(expected);
    expect(result.data[0]!.embedding).toHaveLength(8);
    const row = await h.rowOf("embeddings");
    expect(row).toMatchObject({ model: "text-embedding-ada-002", prompt_tokens: 8, completion_tokens: 0, total_tokens: 8, usage_reported: true, success: true, operation: "embeddings", streamed: false });
  });
});

describe("AzureOpenAI", () => {
  it("records provider azure_openai with the deployment beside the reported model", async () => {
    const client = trackOpenAI(new AzureOpenAI({ apiKey: "azure-wrapped-key-0123456789", endpoint: h.fake.url, apiVersion: "2024-10-21", deployment: "prod-gpt4o", maxRetries: 0 }), { nodeName: "azure-chat" });
    const answer = await client.chat.completions.create({ model: "", messages });
    expect(answer.model).toBe("gpt-4o-2024-11-20");
    expect(h.fake.requests.at(-1)!.path).toBe("/openai/deployments/prod-gpt4o/chat/completions");
    const row = await h.rowOf("azure-chat");
    expect(row).toMatchObject({ provider: "azure_openai", deployment: "prod-gpt4o", model: "gpt-4o-2024-11-20", prompt_tokens: 15, completion_tokens: 10 });
  });

  it("streams through an Azure deployment, the prompt-filter first chunk passed on", async () => {
    const client = trackOpenAI(new AzureOpenAI({ apiKey: "azure-wrapped-key-0123456789", endpoint: h.fake.url, apiVersion: "2024-10-21", deployment: "prod-gpt4o", maxRetries: 0 }), { nodeName: "azure-stream" });
    const chunks = await collect(await client.chat.completions.create({ model: "", messages, stream: true }));
    expect(chunks[0]!.choices).toEqual([]); // Azure's prompt_filter_results chunk is the caller's
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    const row = await h.rowOf("azure-stream");
    expect(row).toMatchObject({ provider: "azure_openai", deployment: "prod-gpt4o", prompt_tokens: 21, completion_tokens: 8, success: true, streamed: true });
  });
});

describe("when a wrapped call's event is built", () => {
  /** Holds the thread for `ms` without yielding: the deferred event can not be built meanwhile. */
  const busyWait = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };

  it("after the caller's next line, with the latency of the call itself (non-streamed and streamed)", async () => {
    const client = tracked("deferred-latency");
    let start = performance.now();
    await client.chat.completions.create({ model: "gpt-4.1-mini", messages });
    const callMs = performance.now() - start;
    expect(pendingRecordCount()).toBe(1); // the caller runs first; the event waits for the next turn
    busyWait(300);

    start = performance.now();
    const stream = await client.chat.completions.create({ model: "gpt-4.1-mini", messages, stream: true });
    for await (const _ of stream);
    const streamMs = performance.now() - start;
    expect(pendingRecordCount()).toBe(1);
    busyWait(300);

    const [plain, streamed] = await h.rowsOf("deferred-latency", 2);
    // Measured to the call's end, not to when the event was built (300 ms later).
    expect(plain!.latency_ms).toBeLessThanOrEqual(Math.ceil(callMs));
    expect(streamed).toMatchObject({ streamed: true, success: true, completion_tokens: 14 });
    expect(streamed!.latency_ms).toBeLessThanOrEqual(Math.ceil(streamMs));
    expect(streamed!.time_to_first_token_ms).toBeLessThanOrEqual(streamed!.latency_ms);
  });

  it("a process that exits in the same turn as its calls ended records them as they ended", async () => {
    const settings = h.settings({ LLM_TRACKER_HANDLE_SIGNALS: true }); // the exit hook on, as by default
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../fixtures/wrapped-exit-child.ts")], {
      env: { ...process.env, CHILD_SETTINGS: JSON.stringify(settings), FAKE_URL: `${h.fake.url}/v1` },
    });
    expect(JSON.parse(stdout)).toMatchObject({ text: "Tides rise and fall because the Moon's gravity pulls on the oceans." });
    // The stream's event was still to be built when the process exited: the exit hook built it
    // and spooled it (with whatever else had not reached Redis); a later producer replays it.
    const spoolDir = settings.LLM_TRACKER_SPOOL_DIR as string;
    expect((await readdir(spoolDir)).length).toBeGreaterThan(0);
    const replayer = new UsageProducer({ redisUrl: TEST_REDIS_URL, queueName: settings.LLM_TRACKER_QUEUE as string, spoolDir, logger: createLogger("silent") });
    try {
      await waitFor(() => replayer.stats().replayed >= 1, 20_000, "the child's spool to be replayed");
    } finally {
      await replayer.shutdown();
    }
    const rows = await h.rowsOf("exit-wrapped", 2);
    expect(rows.map((row) => [row.streamed, row.success, row.error, row.usage_reported, row.completion_tokens])).toEqual([
      [false, true, null, true, 9],
      [true, true, null, true, 14],
    ]);
  });
});
