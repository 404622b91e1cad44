import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, configure, EmptyMessagesError, EmptyResponseError, flush, InvalidInputError, LLMTracker, shutdown } from "../../src/index.js";
import { resetConfiguration } from "../../src/config/settings.js";
import { createLlmService } from "../../src/providers/get-llm-service.js";
import type { LlmService } from "../../src/providers/types.js";
import { getDefaultProducer } from "../../src/usage/default-producer.js";
import { callAndTrack } from "../../src/usage/tracker.js";
import { loadFixture, startFakeProvider, type FakeProvider } from "../fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { queuedEvents } from "./queued-events.js";
import { freePort, startRedis, stopRedis, waitFor } from "./redis-process.js";

const API_KEY = "sk-test-4f9a8b7c6d5e4f3a2b1c0d9e";
const messages = [{ role: "user" as const, content: "你好" }];
let fake: FakeProvider;
let queueName: string;
let spoolDir: string;

function useOpenAI(extra: Record<string, unknown> = {}) {
  configure({
    LLM_PROVIDER: "openai",
    OPENAI_CONFIG: { api_key: API_KEY, base_url: `${fake.url}/v1`, model: "gpt-4.1-mini" },
    LLM_MAX_RETRIES: 0,
    REDIS_URL: TEST_REDIS_URL,
    LLM_TRACKER_QUEUE: queueName,
    LLM_TRACKER_SPOOL_DIR: spoolDir,
    LLM_TRACKER_HANDLE_SIGNALS: false,
    LLM_TRACKER_LOG_LEVEL: "silent",
    ...extra,
  });
}

async function eventsQueued(redisUrl = TEST_REDIS_URL) {
  await flush();
  return queuedEvents(redisUrl, queueName);
}

/** The real service, noting the error object it threw (to check the tracker rethrows that very object). */
function noting(service: LlmService): { service: LlmService; thrown: unknown[] } {
  const thrown: unknown[] = [];
  return {
    thrown,
    service: {
      provider: service.provider,
      chat: (request) => service.chat(request),
      openStream: (request) => service.openStream(request),
      complete: async (request) => {
        try {
          return await service.complete(request);
        } catch (error) {
          thrown.push(error);
          throw error;
        }
      },
    },
  };
}

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-spool-"));
  fake.requests.length = 0;
  useOpenAI();
});
afterEach(async () => {
  await shutdown();
  resetConfiguration();
  await obliterateQueue(queueName);
  await rm(spoolDir, { recursive: true, force: true });
});

describe("LLMTracker.callAndTrack", () => {
  it("returns content and usage and queues one event with the call's metadata", async () => {
    const before = Date.now();
    const result = await LLMTracker.callAndTrack({
      messages,
      nodeName: "interpret",
      state: { user_id: 42, source_type: "task", source_task_id: "celery-uuid", metadata: { tenant: "acme", node_name: "ignored" } },
    });
    expect(result).toEqual({
      content: "Hello! How can I help you today?",
      usage: { model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 19, completion_tokens: 9, total_tokens: 28, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: [],
    });
    const [event, ...rest] = await eventsQueued();
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      provider: "openai",
      model: "gpt-4.1-mini-2025-04-14",
      prompt_tokens: 19,
      completion_tokens: 9,
      total_tokens: 28,
      usage_reported: true,
      success: true,
      error: null,
      user_id: "42",
      metadata: { node_name: "interpret", source_type: "task", source_task_id: "celery-uuid", tenant: "acme" },
    });
    expect(event!.metadata).not.toHaveProperty("source_path");
    expect(Date.parse(event!.created_at)).toBeGreaterThanOrEqual(before - 1);
    expect(event!.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("defaults node_name to unknown", async () => {
    await LLMTracker.callAndTrack({ messages });
    const [event] = await eventsQueued();
    expect(event!.metadata).toEqual({ node_name: "unknown" });
    expect(event!.user_id).toBeNull();
  });

  it("throws EmptyMessagesError for empty messages: nothing reaches the provider, nothing is recorded", async () => {
    await expect(LLMTracker.callAndTrack({ messages: [] })).rejects.toThrow(new EmptyMessagesError());
    await expect(LLMTracker.callAndTrack({ messages: [] })).rejects.toThrow("Messages cannot be empty");
    expect(fake.requests).toEqual([]);
    expect(await eventsQueued()).toEqual([]);
  });

  it("refuses a bad queue setting before calling the provider, naming the key", async () => {
    useOpenAI({ REDIS_URL: "not a url" });
    const error = await LLMTracker.callAndTrack({ messages }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe("REDIS_URL");
    expect(fake.requests).toEqual([]);
    useOpenAI();
  });

  it("an empty answer throws EmptyResponseError and records a failed event keeping the reported usage", async () => {
    fake.enqueue({ body: loadFixture("openai/chat-completion-null-content") });
    const error = await LLMTracker.callAndTrack({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmptyResponseError);
    expect((error as Error).message).toBe("LLM returned empty response");
    const [event] = await eventsQueued();
    expect(event).toMatchObject({ success: false, prompt_tokens: 12, completion_tokens: 256, reasoning_tokens: 256, usage_reported: true });
    expect(event!.error).toContain("LLM returned empty response");
  });

  it.each([
    [500, "openai/error-500-server-error", "InternalServerError"],
    [401, "openai/error-401-invalid-api-key", "AuthenticationError"],
  ])("a provider %i is recorded as a failed event and the very same error object is rethrown", async (status, fixture, name) => {
    fake.enqueue({ status, body: loadFixture(fixture) });
    const { service, thrown } = noting(createLlmService());
    const error = await callAndTrack({ messages, nodeName: "n" }, { service: () => service, producer: getDefaultProducer }).catch((e: unknown) => e);
    expect(thrown).toHaveLength(1);
    expect(error).toBe(thrown[0]);
    const [event] = await eventsQueued();
    expect(event).toMatchObject({ success: false, prompt_tokens: 0, total_tokens: 0, usage_reported: false, model: "gpt-4.1-mini", metadata: { node_name: "n" } });
    expect(event!.error).toMatch(new RegExp(`^${name} \\(status ${status}\\): `));
  });

  it("keeps secrets out of the recorded error", async () => {
    const leaky = `bad key ${API_KEY}; header Authorization: Bearer abc.def.ghi; Gemini AIzaSyA1234567890abcdefghij; api-key=az-secret-value; url ?key=query-secret`;
    fake.enqueue({ status: 400, body: { error: { message: leaky, type: "invalid_request_error", code: null, param: null } } });
    await expect(LLMTracker.callAndTrack({ messages })).rejects.toThrow();
    const [event] = await eventsQueued();
    for (const secret of [API_KEY, "abc.def.ghi", "AIzaSyA1234567890abcdefghij", "az-secret-value", "query-secret"]) {
      expect(event!.error).not.toContain(secret);
    }
    expect(event!.error).toContain("[REDACTED]");
    expect(event!.error!.length).toBeLessThanOrEqual(2_000);
  });

  it("returns while Redis is unreachable, and the event is delivered once Redis is up", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    useOpenAI({ REDIS_URL: redisUrl });
    const result = await LLMTracker.callAndTrack({ messages, nodeName: "offline" });
    expect(result.content).toBe("Hello! How can I help you today?");
    expect(getDefaultProducer().stats()).toMatchObject({ buffered: 1, queued: 0 });
    await startRedis(port);
    try {
      await waitFor(() => getDefaultProducer().stats().queued === 1, 20_000, "delivery once Redis is up");
      const events = await queuedEvents(redisUrl, queueName);
      expect(events.map((e) => e.metadata.node_name)).toEqual(["offline"]);
      await shutdown();
    } finally {
      await stopRedis(port);
    }
  });
});

describe("LLMTracker.record", () => {
  it("hands over an event synchronously and returns its id", async () => {
    const id = LLMTracker.record({
      usage: { model: "claude-x", prompt_tokens: 10, completion_tokens: 5 },
      provider: "anthropic",
      latencyMs: 12.6,
      nodeName: "external",
      state: { user_id: "u1", source_path: "/a" },
      createdAt: "2025-01-02T03:04:05Z",
    });
    expect(getDefaultProducer().stats().buffered).toBe(1);
    const [event] = await eventsQueued();
    expect(event).toMatchObject({
      id,
      provider: "anthropic",
      model: "claude-x",
      total_tokens: 15,
      cached_tokens: 0,
      latency_ms: 13,
      success: true,
      user_id: "u1",
      created_at: "2025-01-02T03:04:05.000Z",
      metadata: { node_name: "external", source_path: "/a" },
    });
  });

  it.each([
    [{ usage: { model: "m", prompt_tokens: -1, completion_tokens: 0 } }, "usage.prompt_tokens"],
    [{ usage: { model: "m", prompt_tokens: 1.5, completion_tokens: 0 } }, "usage.prompt_tokens"],
    [{ usage: { model: "m", prompt_tokens: 1 } }, "usage.completion_tokens"],
    [{ usage: { model: "m", prompt_tokens: 1, completion_tokens: 1 }, createdAt: "yesterday" }, "createdAt"],
    [{ usage: { model: "m", prompt_tokens: 1, completion_tokens: 1 }, createdAt: new Date("nope") }, "createdAt"],
  ])("throws InvalidInputError naming the bad field (%#)", (input, field) => {
    let error: unknown;
    try {
      LLMTracker.record(input as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).argument).toBe(field);
  });

  it("does not throw while Redis is unreachable", async () => {
    useOpenAI({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(() => LLMTracker.record({ usage: { model: "m", prompt_tokens: 1, completion_tokens: 1 } })).not.toThrow();
    await shutdown();
  });
});
