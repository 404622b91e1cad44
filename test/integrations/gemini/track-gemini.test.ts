// trackGemini end to end: a real GoogleGenAI instance over HTTP against the fake provider,
// the producer, BullMQ and the real usage worker writing rows.
import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { trackGemini } from "../../../src/index.js";
import { loadFixture, loadSse } from "../../fake-provider/fake-provider.js";
import { waitFor } from "../../support/wait-for.js";
import { startHarness, watchUnhandled, type Harness } from "../support/usage-rows-harness.js";

const API_KEY = "AIzaWrappedGeminiKey0123456789";
let h: Harness;
const unhandled = watchUnhandled();

const bare = () => new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: h.fake.url, retryOptions: { attempts: 1 } } });
const tracked = (nodeName: string) => trackGemini(bare(), { nodeName, state: { user_id: "g-1" } });

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

describe("models.generateContent", () => {
  it("returns what the bare instance returns and records the usage", async () => {
    const expected = await bare().models.generateContent({ model: "gemini-2.0-flash", contents: "Why is the sky blue?" });
    const answer = await tracked("gem-plain").models.generateContent({ model: "gemini-2.0-flash", contents: "Why is the sky blue?" });
    expect(answer.text).toBe(expected.text);
    expect(answer.usageMetadata).toEqual(expected.usageMetadata);
    const row = await h.rowOf("gem-plain");
    expect(row).toMatchObject({ provider: "gemini", model: "gemini-2.0-flash", prompt_tokens: 6, completion_tokens: 9, total_tokens: 15, usage_reported: true, success: true, user_id: "g-1", streamed: false, operation: "chat" });
  });

  it("converts thinking and cached counts as callAndTrack does", async () => {
    h.fake.enqueue({ body: loadFixture("gemini/generate-content-cached-thinking") });
    await tracked("gem-thinking").models.generateContent({ model: "models/gemini-2.5-flash", contents: "hi" });
    const row = await h.rowOf("gem-thinking");
    const metadata = (loadFixture("gemini/generate-content-cached-thinking") as { usageMetadata: Record<string, number> }).usageMetadata;
    expect(row.cached_tokens).toBe(metadata.cachedContentTokenCount);
    expect(row.reasoning_tokens).toBe(metadata.thoughtsTokenCount);
    expect(row.completion_tokens).toBe(metadata.candidatesTokenCount! + metadata.thoughtsTokenCount!);
  });

  it("a 429 reaches the caller as the SDK's ApiError and is recorded as failed", async () => {
    h.fake.enqueue({ status: 429, body: loadFixture("gemini/error-429-resource-exhausted") });
    const error = await tracked("gem-429").models.generateContent({ model: "gemini-2.0-flash", contents: "hi" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    const row = await h.rowOf("gem-429");
    expect(row).toMatchObject({ success: false, model: "gemini-2.0-flash", usage_reported: false, prompt_tokens: 0 });
    expect(row.error).toMatch(/^ApiError \(status 429\)/);
    expect(row.error).not.toContain(API_KEY);
  });

  it("chats built on the tracked instance are tracked", async () => {
    const ai = tracked("gem-chat");
    const chat = ai.chats.create({ model: "gemini-2.0-flash" });
    await chat.sendMessage({ message: "hello" });
    const row = await h.rowOf("gem-chat");
    expect(row).toMatchObject({ prompt_tokens: 6, completion_tokens: 9 });
  });

  it("patches the instance's own arrow functions, not the prototype: another instance records nothing", async () => {
    const ai = tracked("gem-instance");
    await bare().models.generateContent({ model: "gemini-2.0-flash", contents: "untracked" });
    await ai.models.generateContent({ model: "gemini-2.0-flash", contents: "tracked" });
    await h.rowOf("gem-instance"); // exactly one row
    const all = await h.sql`select count(*)::int as n from llm_tracker_usage where metadata->>'node_name' is null or metadata->>'node_name' = 'unknown'`;
    expect(all[0]!.n).toBe(0);
  });
});

describe("models.generateContentStream", () => {
  it("passes every chunk and records the last cumulative usageMetadata", async () => {
    const expected = await collect(await bare().models.generateContentStream({ model: "gemini-2.0-flash", contents: "Why rainbows?" }));
    const chunks = await collect(await tracked("gem-stream").models.generateContentStream({ model: "gemini-2.0-flash", contents: "Why rainbows?" }));
    expect(chunks.map((c) => c.text)).toEqual(expected.map((c) => c.text));
    expect(chunks.map((c) => c.usageMetadata)).toEqual(expected.map((c) => c.usageMetadata));
    const row = await h.rowOf("gem-stream");
    expect(row).toMatchObject({ model: "gemini-2.0-flash", prompt_tokens: 9, completion_tokens: 15, total_tokens: 24, usage_reported: true, success: true, streamed: true });
    expect(row.time_to_first_token_ms).not.toBeNull();
  });

  it("a caller that breaks after the first chunk gets one failed row; usage reported so far plus the estimated answer", async () => {
    h.fake.enqueue({ stream: { sse: loadSse("gemini/stream-basic"), eventDelayMs: 20 } });
    const stream = await tracked("gem-break").models.generateContentStream({ model: "gemini-2.0-flash", contents: "Why rainbows?" });
    for await (const chunk of stream) {
      expect(chunk.text).toBeTruthy();
      break;
    }
    await waitFor(() => h.fake.openStreams() === 0, 5_000, "the stream's connection to close");
    const row = await h.rowOf("gem-break");
    expect(row).toMatchObject({ success: false, usage_reported: false, prompt_tokens: 9, streamed: true });
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.error).toBe("stream ended early: the caller stopped reading before the stream ended");
  });

  it("an error midway is thrown as the SDK throws it and recorded as a provider error", async () => {
    h.fake.enqueue({ stream: { sse: loadSse("gemini/stream-error-midway") } });
    const stream = await tracked("gem-stream-error").models.generateContentStream({ model: "gemini-2.0-flash", contents: "hi" });
    await expect(collect(stream)).rejects.toBeInstanceOf(ApiError);
    const row = await h.rowOf("gem-stream-error");
    expect(row.success).toBe(false);
    expect(row.error).toMatch(/^stream ended early: provider error: ApiError/);
  });
});

describe("models.embedContent", () => {
  it("the Gemini API reports no tokens: the input is counted with the tokenizer, usage_reported false", async () => {
    const result = await tracked("gem-embed").models.embedContent({ model: "text-embedding-004", contents: ["hello", "world"] });
    expect(result.embeddings).toHaveLength(2);
    expect(h.fake.requests.at(-1)!.path).toBe("/v1beta/models/text-embedding-004:batchEmbedContents");
    const row = await h.rowOf("gem-embed");
    expect(row).toMatchObject({ provider: "gemini", model: "text-embedding-004", completion_tokens: 0, usage_reported: false, success: true, operation: "embeddings" });
    expect(row.prompt_tokens).toBe(2); // "hello" and "world": one token each
    expect(row.total_tokens).toBe(row.prompt_tokens);
  });
});
