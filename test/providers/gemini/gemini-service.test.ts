import { ApiError } from "@google/genai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../../src/config/settings.js";
import { ConfigError } from "../../../src/errors/config-error.js";
import { EmptyResponseError } from "../../../src/errors/empty-response-error.js";
import { getLlmService } from "../../../src/providers/get-llm-service.js";
import { type FakeProvider, loadFixture, startFakeProvider } from "../../fake-provider/fake-provider.js";

const API_KEY = "AIza-test-RECOGNISABLE-gemini-key-55555";
const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Capital of Portugal?" },
  { role: "assistant" as const, content: "Lisbon." },
  { role: "user" as const, content: "And its population?" },
];

let fake: FakeProvider;

function useGemini(config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  configure({ LLM_PROVIDER: "gemini", GEMINI_CONFIG: { api_key: API_KEY, base_url: fake.url, ...config }, ...extra });
}
const sentBody = (i = 0) => fake.requests[i]?.body as Record<string, unknown>;

beforeEach(async () => {
  fake = await startFakeProvider();
  resetConfiguration();
});
afterEach(async () => {
  resetConfiguration();
  await fake.close();
});

describe("Gemini adapter: what reaches the server", () => {
  it("posts to /v1beta/models/{model}:generateContent with x-goog-api-key, system → systemInstruction, assistant → model", async () => {
    useGemini({ model: "gemini-2.5-flash", max_tokens: 256 });
    const result = await getLlmService().chat({ messages });

    const [request] = fake.requests;
    expect(request?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(request?.headers["x-goog-api-key"]).toBe(API_KEY);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({
      contents: [
        { role: "user", parts: [{ text: "Capital of Portugal?" }] },
        { role: "model", parts: [{ text: "Lisbon." }] },
        { role: "user", parts: [{ text: "And its population?" }] },
      ],
      systemInstruction: { parts: [{ text: "You are terse." }] },
      generationConfig: { maxOutputTokens: 256 },
    });
    expect(result).toEqual({
      content: "Hello! How can I help you today?",
      usage: { model: "gemini-2.0-flash", prompt_tokens: 6, completion_tokens: 9, total_tokens: 15, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: [],
    });
  });

  it("sends temperature and maxTokens from the call over the config", async () => {
    useGemini({ temperature: 0.3 });
    await getLlmService().chat({ messages, maxTokens: 64, temperature: 0.9 });
    expect(sentBody().generationConfig).toEqual({ maxOutputTokens: 64, temperature: 0.9 });
  });

  it("asks for JSON in jsonMode", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/generate-content-json") });
    const { content } = await getLlmService().chat({ messages, jsonMode: true });
    expect(sentBody().generationConfig).toMatchObject({ responseMimeType: "application/json" });
    expect(JSON.parse(content)).toEqual({ city: "Lisbon", country: "Portugal" });
  });

  it("maps an OpenAI json_schema responseFormat to responseMimeType + responseJsonSchema", async () => {
    useGemini();
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    await getLlmService().chat({ messages, responseFormat: { type: "json_schema", json_schema: { name: "city", schema } } });
    expect(sentBody().generationConfig).toEqual({ maxOutputTokens: 4096, responseMimeType: "application/json", responseJsonSchema: schema });
  });
});

describe("Gemini adapter: what comes back", () => {
  it("counts thoughts as completion and reasoning tokens, and leaves thought parts out of the content", async () => {
    useGemini();
    const body = structuredClone(loadFixture("gemini/generate-content-thinking")) as { candidates: { content: { parts: unknown[] } }[] };
    body.candidates[0]!.content.parts.unshift({ text: "**Recalling capitals** The user wants…", thought: true });
    fake.enqueue({ body });
    const { content, usage } = await getLlmService().chat({ messages });
    expect(content).toBe("Lisbon");
    expect(usage).toEqual({ model: "gemini-2.5-flash", prompt_tokens: 11, completion_tokens: 138, total_tokens: 149, cached_tokens: 0, reasoning_tokens: 137 });
  });

  it("counts tool-use prompt tokens as prompt tokens", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/generate-content-tool-use-thinking") });
    const { usage } = await getLlmService().chat({ messages });
    expect(usage).toEqual({ model: "gemini-2.5-flash", prompt_tokens: 203, completion_tokens: 109, total_tokens: 312, cached_tokens: 0, reasoning_tokens: 68 });
  });

  it("reports cached content tokens", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/generate-content-cached-thinking") });
    const { usage } = await getLlmService().chat({ messages });
    expect(usage).toMatchObject({ model: "gemini-2.5-pro", prompt_tokens: 8450, cached_tokens: 8192, total_tokens: 8561 });
  });

  it("treats MAX_TOKENS with text as a real, truncated answer", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/generate-content-max-tokens") });
    expect(await getLlmService().complete({ messages })).toMatchObject({ content: "Once upon a time, in a valley between", emptyReason: null });
  });

  it("reports a blocked prompt as empty with the block reason and the prompt's usage", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/prompt-blocked") }, { body: loadFixture("gemini/prompt-blocked") });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome).toMatchObject({ content: null, emptyReason: "prompt_blocked:PROHIBITED_CONTENT", usageReported: true });
    expect(outcome.usage.prompt_tokens).toBe(13);

    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmptyResponseError);
    expect((error as EmptyResponseError).usage.total_tokens).toBe(13);
  });

  it("reports a SAFETY finish without text as empty with reason SAFETY", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/finish-safety-no-content") });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome).toMatchObject({ content: null, emptyReason: "SAFETY" });
    expect(outcome.usage).toMatchObject({ model: "gemini-1.5-flash", prompt_tokens: 10 });
  });

  it("reports a SAFETY finish as empty even when some text came before the filter stopped it", async () => {
    useGemini();
    const body = structuredClone(loadFixture("gemini/generate-content-basic")) as { candidates: { finishReason: string }[] };
    body.candidates[0]!.finishReason = "SAFETY";
    fake.enqueue({ body });
    expect(await getLlmService().complete({ messages })).toMatchObject({ content: null, emptyReason: "SAFETY" });
  });

  it("reports a response without candidates or block reason as no_candidates", async () => {
    useGemini();
    fake.enqueue({ body: loadFixture("gemini/no-candidates") });
    expect(await getLlmService().complete({ messages })).toMatchObject({ content: null, emptyReason: "no_candidates" });
  });

  it("says usage was missing and names the requested model when the response has neither", async () => {
    useGemini({ model: "gemini-2.5-flash-lite" });
    const body = structuredClone(loadFixture("gemini/generate-content-no-usage")) as Record<string, unknown>;
    delete body.modelVersion;
    fake.enqueue({ body });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome.content).toBe("Sure.");
    expect(outcome.usageReported).toBe(false);
    expect(outcome.usage).toEqual({ model: "gemini-2.5-flash-lite", prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 });
  });
});

describe("Gemini adapter: provider errors surface as the SDK made them", () => {
  it.each([
    [400, "gemini/error-400-invalid-argument", "INVALID_ARGUMENT"],
    [400, "gemini/error-400-api-key-invalid", "API_KEY_INVALID"],
    [401, "gemini/error-401-unauthenticated", "UNAUTHENTICATED"],
  ])("%i (%s) is an ApiError with that status, not retried", async (status, fixture, text) => {
    useGemini();
    fake.enqueue({ status, body: loadFixture(fixture) });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(status);
    expect((error as ApiError).message).toContain(text);
    expect((error as ApiError).message).not.toContain(API_KEY);
    expect(fake.requests).toHaveLength(1);
  });

  it("500 is retried LLM_MAX_RETRIES times, then an ApiError 500", async () => {
    useGemini({}, { LLM_MAX_RETRIES: 1 });
    const failure = { status: 500, body: loadFixture("gemini/error-500-internal") };
    fake.enqueue(failure, failure, failure);
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(500);
    expect(fake.requests).toHaveLength(2);
  });

  it("a 429 whose retry-after says a day is retried after a short backoff, not a day", async () => {
    useGemini({}, { LLM_MAX_RETRIES: 1 });
    fake.enqueue({ status: 429, headers: { "retry-after": "86400" }, body: loadFixture("gemini/error-429-resource-exhausted") });
    const { content } = await getLlmService().chat({ messages });
    expect(content).toBe("Hello! How can I help you today?");
    expect(fake.requests).toHaveLength(2);
  });

  it("with LLM_MAX_RETRIES 0 a 429 surfaces at once as ApiError 429", async () => {
    useGemini({}, { LLM_MAX_RETRIES: 0 });
    fake.enqueue({ status: 429, body: loadFixture("gemini/error-429-resource-exhausted") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(429);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("Gemini adapter: timeouts", () => {
  it("an answer slower than LLM_TIMEOUT_MS aborts the call instead of waiting", async () => {
    useGemini({}, { LLM_TIMEOUT_MS: 100, LLM_MAX_RETRIES: 0 });
    fake.enqueue({ body: loadFixture("gemini/generate-content-basic"), delayMs: 5_000 });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toMatch(/AbortError|TimeoutError/);
  });
});

describe("Gemini configuration", () => {
  it("a missing api_key throws ConfigError naming GEMINI_CONFIG.api_key", () => {
    configure({ LLM_PROVIDER: "gemini", GEMINI_CONFIG: { base_url: fake.url } });
    expect(() => getLlmService()).toThrow(/GEMINI_CONFIG\.api_key/);
  });

  it("an invalid setting's ConfigError never contains the key", () => {
    configure({ LLM_PROVIDER: "gemini", GEMINI_CONFIG: { api_key: API_KEY, temperature: 7 } });
    let caught: unknown;
    try {
      getLlmService();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain("GEMINI_CONFIG.temperature");
    expect((caught as Error).message).not.toContain(API_KEY);
  });
});
