import { APIConnectionTimeoutError, AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../../src/config/settings.js";
import { ConfigError } from "../../../src/errors/config-error.js";
import { EmptyResponseError } from "../../../src/errors/empty-response-error.js";
import { getLlmService } from "../../../src/providers/get-llm-service.js";
import { type FakeProvider, loadFixture, startFakeProvider } from "../../fake-provider/fake-provider.js";

const API_KEY = "sk-test-RECOGNISABLE-openai-key-0123456789";
const messages = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "Hello" },
  { role: "assistant" as const, content: "Hi." },
  { role: "user" as const, content: "How are you?" },
];

let fake: FakeProvider;

function useOpenAI(config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: API_KEY, base_url: `${fake.url}/v1`, ...config }, ...extra });
}

beforeEach(async () => {
  fake = await startFakeProvider();
  resetConfiguration();
});
afterEach(async () => {
  resetConfiguration();
  await fake.close();
});

describe("OpenAI adapter: what reaches the server", () => {
  it("posts the messages to /v1/chat/completions with a Bearer key and max_completion_tokens, and no temperature by default", async () => {
    useOpenAI({ model: "gpt-4.1-mini", max_tokens: 321 });
    const result = await getLlmService().chat({ messages });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/v1/chat/completions");
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toEqual({ model: "gpt-4.1-mini", messages, max_completion_tokens: 321 });
    expect(result).toEqual({
      content: "Hello! How can I help you today?",
      usage: { model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 19, completion_tokens: 9, total_tokens: 28, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: [],
    });
  });

  it("sends the configured temperature, and a call's own maxTokens and temperature over the config", async () => {
    useOpenAI({ temperature: 0.2 });
    await getLlmService().chat({ messages });
    await getLlmService().chat({ messages, maxTokens: 50, temperature: 1.1 });
    const [first, second] = fake.requests.map((r) => r.body as Record<string, unknown>);
    expect(first).toMatchObject({ temperature: 0.2, max_completion_tokens: 4096 });
    expect(second).toMatchObject({ temperature: 1.1, max_completion_tokens: 50 });
    expect(second).not.toHaveProperty("max_tokens");
  });

  it("asks for a JSON object in jsonMode", async () => {
    useOpenAI();
    fake.enqueue({ body: loadFixture("openai/chat-completion-json-object") });
    const { content } = await getLlmService().chat({ messages, jsonMode: true });
    expect((fake.requests[0]?.body as Record<string, unknown>).response_format).toEqual({ type: "json_object" });
    expect(JSON.parse(content)).toEqual({ city: "Lisbon", country: "Portugal", population: 545923 });
  });

  it("passes a json_schema responseFormat through unchanged", async () => {
    useOpenAI();
    const responseFormat = {
      type: "json_schema",
      json_schema: { name: "city", strict: true, schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false } },
    };
    await getLlmService().chat({ messages, responseFormat, jsonMode: true });
    expect((fake.requests[0]?.body as Record<string, unknown>).response_format).toEqual(responseFormat);
  });
});

describe("OpenAI adapter: what comes back", () => {
  it("reports cached and reasoning tokens", async () => {
    useOpenAI({ model: "o4-mini" });
    fake.enqueue({ body: loadFixture("openai/chat-completion-reasoning-cached") });
    const { usage } = await getLlmService().chat({ messages });
    expect(usage).toEqual({ model: "o4-mini-2025-04-16", prompt_tokens: 1843, completion_tokens: 412, total_tokens: 2255, cached_tokens: 1536, reasoning_tokens: 320 });
  });

  it("treats finish_reason length with content as a real, truncated answer", async () => {
    useOpenAI();
    fake.enqueue({ body: loadFixture("openai/chat-completion-finish-length") });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome.emptyReason).toBeNull();
    expect(outcome.content).toBe("Once upon a time, in a valley between two");
  });

  it("reports a refusal as an empty answer with its usage; chat() throws EmptyResponseError", async () => {
    useOpenAI();
    fake.enqueue({ body: loadFixture("openai/chat-completion-refusal") }, { body: loadFixture("openai/chat-completion-refusal") });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome).toMatchObject({ content: null, emptyReason: "refusal", usageReported: true });
    expect(outcome.usage.total_tokens).toBe(38);

    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmptyResponseError);
    expect((error as EmptyResponseError).message).toBe("LLM returned empty response");
    expect((error as EmptyResponseError).reason).toBe("refusal");
    expect((error as EmptyResponseError).usage.prompt_tokens).toBe(27);
  });

  it("reports empty content cut by the token limit as empty with reason length", async () => {
    useOpenAI();
    fake.enqueue({ body: loadFixture("openai/chat-completion-null-content") });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome).toMatchObject({ content: null, emptyReason: "length" });
    expect(outcome.usage.reasoning_tokens).toBe(256);
  });

  it("reports null content with finish_reason stop as null_content", async () => {
    useOpenAI();
    const body = structuredClone(loadFixture("openai/chat-completion-basic")) as { choices: { message: { content: string | null } }[] };
    body.choices[0]!.message.content = null;
    fake.enqueue({ body });
    expect(await getLlmService().complete({ messages })).toMatchObject({ content: null, emptyReason: "null_content" });
  });

  it("says usage was missing when the response has none", async () => {
    useOpenAI();
    fake.enqueue({ body: loadFixture("openai/chat-completion-no-usage") });
    const outcome = await getLlmService().complete({ messages });
    expect(outcome.content).toBe("Sure.");
    expect(outcome.usageReported).toBe(false);
    expect(outcome.usage).toMatchObject({ model: "gpt-4.1-nano-2025-04-14", prompt_tokens: 0, total_tokens: 0 });
  });

  it("returns the provider's own response as raw only when asked", async () => {
    useOpenAI();
    const plain = await getLlmService().chat({ messages });
    expect(plain).not.toHaveProperty("raw");
    const withRaw = await getLlmService().chat({ messages, rawResponse: true });
    expect(withRaw.raw).toMatchObject({ id: "chatcmpl-Bf3kQ7WJxR2nVYtLp9aHs0CuEd1mZ", object: "chat.completion" });
  });
});

describe("OpenAI adapter: provider errors surface as the SDK made them", () => {
  it("400 is a BadRequestError with the body's code, not retried", async () => {
    useOpenAI();
    fake.enqueue({ status: 400, body: loadFixture("openai/error-400-unsupported-parameter") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).status).toBe(400);
    expect((error as BadRequestError).code).toBe("unsupported_parameter");
    expect(fake.requests).toHaveLength(1);
  });

  it("401 is an AuthenticationError, not retried", async () => {
    useOpenAI();
    fake.enqueue({ status: 401, body: loadFixture("openai/error-401-invalid-api-key") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).status).toBe(401);
    expect(String((error as Error).message)).not.toContain(API_KEY);
    expect(fake.requests).toHaveLength(1);
  });

  it("500 is retried LLM_MAX_RETRIES times, then an InternalServerError", async () => {
    useOpenAI({}, { LLM_MAX_RETRIES: 2 });
    const failure = { status: 500, headers: { "retry-after": "0" }, body: loadFixture("openai/error-500-server-error") };
    fake.enqueue(failure, failure, failure, failure);
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(fake.requests).toHaveLength(3);
  });

  it("a 429 with a short retry-after is retried and the call succeeds", async () => {
    useOpenAI();
    fake.enqueue({ status: 429, headers: { "retry-after": "0" }, body: loadFixture("openai/error-429-rate-limit") });
    const { content } = await getLlmService().chat({ messages });
    expect(content).toBe("Hello! How can I help you today?");
    expect(fake.requests).toHaveLength(2);
  });

  it("a 429 whose retry-after says a day fails fast with the SDK's RateLimitError instead of sleeping", async () => {
    useOpenAI();
    fake.enqueue({ status: 429, headers: { "retry-after": "86400" }, body: loadFixture("openai/error-429-rate-limit") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).status).toBe(429);
    expect((error as RateLimitError).code).toBe("rate_limit_exceeded");
    expect((error as RateLimitError).headers?.get("retry-after")).toBe("86400");
    expect(fake.requests).toHaveLength(1);
  });
});

describe("OpenAI adapter: timeouts", () => {
  it("an answer slower than LLM_TIMEOUT_MS fails with the SDK's APIConnectionTimeoutError", async () => {
    useOpenAI({}, { LLM_TIMEOUT_MS: 100, LLM_MAX_RETRIES: 0 });
    fake.enqueue({ body: loadFixture("openai/chat-completion-basic"), delayMs: 5_000 });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("OpenAI configuration", () => {
  it("an incomplete configuration throws ConfigError naming the key", () => {
    configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { base_url: `${fake.url}/v1` } });
    expect(() => getLlmService()).toThrow(ConfigError);
    expect(() => getLlmService()).toThrow(/OPENAI_CONFIG\.api_key/);
  });

  it("a ConfigError never contains the api key", () => {
    configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: API_KEY, base_url: "not a url" } });
    const error = (() => {
      try {
        getLlmService();
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toContain("OPENAI_CONFIG.base_url");
    expect(error?.message).not.toContain(API_KEY);
    expect(JSON.stringify(error)).not.toContain(API_KEY);
  });

  it("getLlmService() is cached until configure() is called again", async () => {
    useOpenAI({ model: "first-model" });
    const first = getLlmService();
    expect(getLlmService()).toBe(first);
    useOpenAI({ model: "second-model" });
    const second = getLlmService();
    expect(second).not.toBe(first);
    await second.chat({ messages });
    expect((fake.requests[0]?.body as Record<string, unknown>).model).toBe("second-model");
  });
});
