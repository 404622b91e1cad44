// llmTrackerMiddleware end to end: AI SDK 6's generateText and streamText over an
// @ai-sdk/openai model pointed at the fake provider, the producer and the real worker.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText, wrapLanguageModel } from "ai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { llmTrackerMiddleware, withTracking } from "../../../src/index.js";
import { loadFixture, loadSse } from "../../fake-provider/fake-provider.js";
import { waitFor } from "../../support/wait-for.js";
import { startHarness, watchUnhandled, type Harness } from "../support/usage-rows-harness.js";

let h: Harness;
const unhandled = watchUnhandled();

const provider = () => createOpenAI({ apiKey: "sk-ai-sdk-key-0123456789", baseURL: `${h.fake.url}/v1` });
const model = (nodeName: string, api: "chat" | "responses" = "chat") =>
  wrapLanguageModel({ model: api === "chat" ? provider().chat("gpt-4.1-mini") : provider().responses("gpt-5.2"), middleware: llmTrackerMiddleware({ nodeName, state: { source_type: "ai-sdk" } }) });

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

describe("generateText", () => {
  it("records the V3 usage mapped to our counts, the provider from the model's provider id", async () => {
    const result = await generateText({ model: model("ai-generate"), prompt: "How do tides work?", maxRetries: 0 });
    expect(result.text).toBe((loadFixture("openai/chat-completion-basic") as { choices: { message: { content: string } }[] }).choices[0]!.message.content);
    const row = await h.rowOf("ai-generate");
    expect(row).toMatchObject({ provider: "openai", model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 19, completion_tokens: 9, total_tokens: 28, usage_reported: true, success: true, streamed: false, operation: "chat" });
    expect(row.metadata.source_type).toBe("ai-sdk");
  });

  it("maps cacheRead and reasoning (inputTokens.cacheRead, outputTokens.reasoning)", async () => {
    h.fake.enqueue({ body: loadFixture("openai/chat-completion-reasoning-cached") });
    await generateText({ model: model("ai-reasoning"), prompt: "hi", maxRetries: 0 });
    const usage = (loadFixture("openai/chat-completion-reasoning-cached") as { usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details: { cached_tokens: number }; completion_tokens_details: { reasoning_tokens: number } } }).usage;
    const row = await h.rowOf("ai-reasoning");
    expect(row).toMatchObject({
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      cached_tokens: usage.prompt_tokens_details.cached_tokens,
      reasoning_tokens: usage.completion_tokens_details.reasoning_tokens,
    });
  });

  it("a 429 is recorded as failed and reaches the caller as the AI SDK throws it", async () => {
    h.fake.enqueue({ status: 429, body: loadFixture("openai/error-429-rate-limit") });
    await expect(generateText({ model: model("ai-429"), prompt: "hi", maxRetries: 0 })).rejects.toMatchObject({ statusCode: 429 });
    const row = await h.rowOf("ai-429");
    expect(row).toMatchObject({ success: false, usage_reported: false, model: "gpt-4.1-mini" });
    expect(row.error).toMatch(/^APICallError \(status 429\): Rate limit reached/);
  });

  it("takes the withTracking scope over the middleware's defaults", async () => {
    await withTracking({ state: { user_id: "ai-user" } }, () => generateText({ model: model("ai-scoped"), prompt: "hi", maxRetries: 0 }));
    const row = await h.rowOf("ai-scoped");
    expect(row.user_id).toBe("ai-user");
  });
});

describe("streamText", () => {
  it("records the finish part's usage, streamed, with a time to first token", async () => {
    const result = streamText({ model: model("ai-stream"), prompt: "How do tides work?", maxRetries: 0 });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe("Tides rise and fall because the Moon's gravity pulls on the oceans.");
    const row = await h.rowOf("ai-stream");
    expect(row).toMatchObject({ provider: "openai", model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 18, completion_tokens: 14, total_tokens: 32, usage_reported: true, success: true, streamed: true });
    expect(row.time_to_first_token_ms).not.toBeNull();
    expect((await result.usage).inputTokens).toBe(18); // the caller's own usage is untouched
  });

  it("over the Responses API model (openai.responses)", async () => {
    const result = streamText({ model: model("ai-stream-responses", "responses"), prompt: "Which arch?", maxRetries: 0 });
    await result.consumeStream();
    const row = await h.rowOf("ai-stream-responses");
    expect(row).toMatchObject({ provider: "openai", model: "gpt-5.2-2025-12-11", prompt_tokens: 802, completion_tokens: 20, success: true, streamed: true });
  });

  it("a stream the caller stops early (abort) is recorded once, as failed", async () => {
    h.fake.enqueue({ stream: { sse: loadSse("openai/stream-basic"), eventDelayMs: 20 } });
    const controller = new AbortController();
    const result = streamText({ model: model("ai-stream-abort"), prompt: "hi", maxRetries: 0, abortSignal: controller.signal });
    try {
      for await (const delta of result.textStream) {
        if (delta) controller.abort();
      }
    } catch {
      // the AI SDK may end the loop with the abort
    }
    await waitFor(() => h.fake.openStreams() === 0, 5_000, "the stream's connection to close");
    const row = await h.rowOf("ai-stream-abort");
    expect(row).toMatchObject({ success: false, usage_reported: false, streamed: true });
    expect(row.error).toMatch(/^stream ended early/);
  });
});
