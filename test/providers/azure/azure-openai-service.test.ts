import { BadRequestError, RateLimitError } from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../../src/config/settings.js";
import { ConfigError } from "../../../src/errors/config-error.js";
import { EmptyResponseError } from "../../../src/errors/empty-response-error.js";
import { getLlmService } from "../../../src/providers/get-llm-service.js";
import { type FakeProvider, loadFixture, startFakeProvider } from "../../fake-provider/fake-provider.js";

const API_KEY = "azure-test-RECOGNISABLE-key-9876543210";
const messages = [
  { role: "system" as const, content: "Answer in one line." },
  { role: "user" as const, content: "Hi" },
];

let fake: FakeProvider;

function useAzure(config: Record<string, unknown> = {}) {
  configure({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: API_KEY, api_base: `${fake.url}/`, deployment: "prod-gpt4o", ...config } });
}

beforeEach(async () => {
  fake = await startFakeProvider();
  resetConfiguration();
});
afterEach(async () => {
  resetConfiguration();
  await fake.close();
});

describe("Azure OpenAI adapter", () => {
  it("with api_version, posts to /openai/deployments/{deployment}/chat/completions?api-version=… with the api-key header", async () => {
    useAzure({ api_version: "2024-10-21", max_tokens: 200 });
    const outcome = await getLlmService().complete({ messages });

    const [request] = fake.requests;
    expect(request?.path).toBe("/openai/deployments/prod-gpt4o/chat/completions");
    expect(request?.search).toBe("?api-version=2024-10-21");
    expect(request?.headers["api-key"]).toBe(API_KEY);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({ model: "prod-gpt4o", messages, max_completion_tokens: 200 });

    expect(outcome.content).toBe("Hi there! What can I do for you?");
    expect(outcome.deployment).toBe("prod-gpt4o");
    expect(outcome.usage).toEqual({ model: "gpt-4o-2024-11-20", prompt_tokens: 15, completion_tokens: 10, total_tokens: 25, cached_tokens: 0, reasoning_tokens: 0 });
  });

  it("without api_version, posts to the v1 endpoint with the deployment as the model and only the api-key header", async () => {
    useAzure();
    await getLlmService().chat({ messages, jsonMode: true });

    const [request] = fake.requests;
    expect(request?.path).toBe("/openai/v1/chat/completions");
    expect(request?.search).toBe("");
    expect(request?.headers["api-key"]).toBe(API_KEY);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toMatchObject({ model: "prod-gpt4o", response_format: { type: "json_object" } });
  });

  it("reports reasoning and cached tokens of an o-series deployment", async () => {
    useAzure({ api_version: "2025-01-01-preview" });
    fake.enqueue({ body: loadFixture("azure/chat-completion-reasoning") });
    const { usage } = await getLlmService().chat({ messages });
    expect(usage).toEqual({ model: "o3-mini-2025-01-31", prompt_tokens: 2210, completion_tokens: 980, total_tokens: 3190, cached_tokens: 2048, reasoning_tokens: 704 });
  });

  it("reads null token details as zero", async () => {
    useAzure({ api_version: "2024-10-21" });
    fake.enqueue({ body: loadFixture("azure/chat-completion-null-details") });
    const { usage } = await getLlmService().chat({ messages });
    expect(usage).toMatchObject({ prompt_tokens: 31, completion_tokens: 5, cached_tokens: 0, reasoning_tokens: 0 });
  });

  it("reports finish_reason content_filter as empty; chat() throws with the usage", async () => {
    useAzure({ api_version: "2024-10-21" });
    fake.enqueue({ body: loadFixture("azure/chat-completion-content-filter") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmptyResponseError);
    expect((error as EmptyResponseError).reason).toBe("content_filter");
    expect((error as EmptyResponseError).usage.total_tokens).toBe(102);
  });

  it("a prompt filtered with 400 content_filter surfaces as the SDK's BadRequestError", async () => {
    useAzure({ api_version: "2024-10-21" });
    fake.enqueue({ status: 400, body: loadFixture("azure/error-400-content-filter") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe("content_filter");
    expect(fake.requests).toHaveLength(1);
  });

  it("a quota 429 asking to retry after 86400 s fails fast with RateLimitError", async () => {
    useAzure({ api_version: "2024-10-21" });
    fake.enqueue({ status: 429, headers: { "retry-after": "86400" }, body: loadFixture("azure/error-429-rate-limit") });
    const error = await getLlmService().chat({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(fake.requests).toHaveLength(1);
  });

  it("a missing api_base throws ConfigError naming it, without the key", () => {
    configure({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: API_KEY, deployment: "d" } });
    expect(() => getLlmService()).toThrow(ConfigError);
    expect(() => getLlmService()).toThrow(/AZURE_OPENAI_CONFIG\.api_base/);
    try {
      getLlmService();
    } catch (e) {
      expect((e as Error).message).not.toContain(API_KEY);
    }
  });
});
