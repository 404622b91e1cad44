import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, DEFAULTS, getProviderSettings, getTrackerSettings, resetConfiguration } from "../../src/config/settings.js";
import { ConfigError } from "../../src/errors/config-error.js";

const SECRET = "sk-test-SECRET-do-not-print-4242";
const ENV_KEYS = [
  "LLM_PROVIDER", "OPENAI_CONFIG", "AZURE_OPENAI_CONFIG", "GEMINI_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL",
  "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "GEMINI_API_KEY", "REDIS_URL", "DATABASE_URL",
  "LLM_TRACKER_QUEUE", "LLM_TRACKER_BATCH_SIZE", "LLM_TRACKER_HANDLE_SIGNALS", "LLM_TIMEOUT_MS",
  "LLM_TRACKER_QUEUE_PREFIX", "LLM_TRACKER_REDIS_CLUSTER", "LLM_TRACKER_STATS_DATABASE_URL",
];
let saved: Record<string, string | undefined> = {};

beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  resetConfiguration();
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetConfiguration();
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("provider settings", () => {
  it("reads the provider and its object from environment variables holding JSON text", () => {
    process.env.LLM_PROVIDER = "openai";
    process.env.OPENAI_CONFIG = JSON.stringify({ api_key: SECRET, model: "gpt-4.1-mini", max_tokens: 256, temperature: 0.2, base_url: "http://127.0.0.1:1/v1" });
    expect(getProviderSettings()).toMatchObject({
      provider: "openai", apiKey: SECRET, model: "gpt-4.1-mini", maxTokens: 256, temperature: 0.2, baseURL: "http://127.0.0.1:1/v1",
      timeoutMs: DEFAULTS.timeoutMs, maxRetries: DEFAULTS.maxRetries,
    });
  });

  it("lets configure() replace what the environment said, key by key", () => {
    process.env.LLM_PROVIDER = "gemini";
    process.env.GEMINI_CONFIG = JSON.stringify({ api_key: "from-env" });
    configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: SECRET } });
    expect(getProviderSettings()).toMatchObject({ provider: "openai", apiKey: SECRET, model: DEFAULTS.openaiModel, maxTokens: DEFAULTS.maxTokens, temperature: undefined });
  });

  it("reconfigures when configure() is called again", () => {
    configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: SECRET, model: "a" } });
    expect(getProviderSettings().model).toBe("a");
    configure({ OPENAI_CONFIG: { api_key: SECRET, model: "b" } });
    expect(getProviderSettings().model).toBe("b");
  });

  it("fills gaps from the conventional variables", () => {
    process.env.OPENAI_API_KEY = SECRET;
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
    configure({ LLM_PROVIDER: "openai" });
    expect(getProviderSettings()).toMatchObject({ apiKey: SECRET, baseURL: "http://127.0.0.1:9/v1" });

    process.env.AZURE_OPENAI_API_KEY = SECRET;
    process.env.AZURE_OPENAI_ENDPOINT = "https://example.openai.azure.com";
    process.env.OPENAI_API_VERSION = "2024-10-21";
    configure({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { deployment: "prod-4o" } });
    expect(getProviderSettings()).toMatchObject({ provider: "azure_openai", apiBase: "https://example.openai.azure.com", apiVersion: "2024-10-21", deployment: "prod-4o", model: "prod-4o" });

    process.env.GEMINI_API_KEY = SECRET;
    configure({ LLM_PROVIDER: "gemini", GEMINI_CONFIG: {} });
    expect(getProviderSettings()).toMatchObject({ provider: "gemini", apiKey: SECRET, model: DEFAULTS.geminiModel });
  });

  it("accepts an Azure endpoint copied with a trailing /openai/", () => {
    configure({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: SECRET, api_base: "https://x.openai.azure.com/openai/", deployment: "d" } });
    expect(getProviderSettings()).toMatchObject({ apiBase: "https://x.openai.azure.com" });
  });

  it("names the missing key in ConfigError", () => {
    expect(configError(() => getProviderSettings()).key).toBe("LLM_PROVIDER");
    configure({ LLM_PROVIDER: "openai" });
    expect(configError(() => getProviderSettings()).message).toBe("OPENAI_CONFIG.api_key: is missing");
    configure({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: SECRET } });
    expect(configError(() => getProviderSettings()).key).toBe("AZURE_OPENAI_CONFIG.api_base");
    configure({ AZURE_OPENAI_CONFIG: { api_key: SECRET, api_base: "https://x.openai.azure.com" } });
    expect(configError(() => getProviderSettings()).key).toBe("AZURE_OPENAI_CONFIG.deployment");
  });

  it("names the invalid key and never shows the secret beside it", () => {
    configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: SECRET, base_url: `not a url ${SECRET}` } });
    const badUrl = configError(() => getProviderSettings());
    expect(badUrl.key).toBe("OPENAI_CONFIG.base_url");
    expect(badUrl.message).not.toContain(SECRET);

    configure({ OPENAI_CONFIG: `{"api_key": "${SECRET}", oops` });
    const badJson = configError(() => getProviderSettings());
    expect(badJson.message).toBe("OPENAI_CONFIG: is not valid JSON text");

    configure({ OPENAI_CONFIG: { api_key: SECRET, temperature: 7 } });
    expect(configError(() => getProviderSettings()).key).toBe("OPENAI_CONFIG.temperature");

    configure({ LLM_PROVIDER: "anthropic" as never });
    const badProvider = configError(() => getProviderSettings());
    expect(badProvider.key).toBe("LLM_PROVIDER");
  });

  it("rejects unknown keys in configure()", () => {
    expect(configError(() => configure({ OPENAI_KEY: SECRET } as never)).message).toBe("OPENAI_KEY: is not a known setting");
  });
});

describe("tracker settings", () => {
  it("has a default for every key", () => {
    expect(getTrackerSettings()).toEqual({
      redisUrl: DEFAULTS.redisUrl, redisCluster: false, databaseUrl: DEFAULTS.databaseUrl, statsDatabaseUrl: DEFAULTS.databaseUrl,
      queueName: DEFAULTS.queueName, queuePrefix: "bull", spoolDir: DEFAULTS.spoolDir,
      bufferSize: DEFAULTS.bufferSize, jobSize: DEFAULTS.jobSize, handleSignals: true, batchSize: DEFAULTS.batchSize,
      flushMs: DEFAULTS.flushMs, rollupCompactMs: DEFAULTS.rollupCompactMs, httpPort: DEFAULTS.httpPort, logLevel: DEFAULTS.logLevel, pricesPath: undefined,
      priceOverrides: undefined, azureDeployments: {}, budgets: [], budgetCacheMs: DEFAULTS.budgetCacheMs,
    });
  });

  it("parses numbers and booleans given as environment text", () => {
    process.env.LLM_TRACKER_BATCH_SIZE = "500";
    process.env.LLM_TRACKER_HANDLE_SIGNALS = "false";
    expect(getTrackerSettings()).toMatchObject({ batchSize: 500, handleSignals: false });
  });

  it("rejects a bad number or URL naming the key, without the value", () => {
    process.env.LLM_TRACKER_BATCH_SIZE = "lots";
    expect(configError(() => getTrackerSettings()).key).toBe("LLM_TRACKER_BATCH_SIZE");
    delete process.env.LLM_TRACKER_BATCH_SIZE;
    configure({ DATABASE_URL: "postgres//user:hunter2@host" });
    const bad = configError(() => getTrackerSettings());
    expect(bad.key).toBe("DATABASE_URL");
    expect(bad.message).not.toContain("hunter2");
  });

  it("reads the stats from DATABASE_URL unless LLM_TRACKER_STATS_DATABASE_URL names a replica", () => {
    process.env.DATABASE_URL = "postgres://writer@primary:5432/llm_tracker";
    expect(getTrackerSettings()).toMatchObject({ databaseUrl: process.env.DATABASE_URL, statsDatabaseUrl: process.env.DATABASE_URL });
    configure({ LLM_TRACKER_STATS_DATABASE_URL: "postgres://reader@replica:5432/llm_tracker" });
    expect(getTrackerSettings()).toMatchObject({ databaseUrl: process.env.DATABASE_URL, statsDatabaseUrl: "postgres://reader@replica:5432/llm_tracker" });
    configure({ LLM_TRACKER_STATS_DATABASE_URL: "not a url" });
    expect(configError(() => getTrackerSettings()).key).toBe("LLM_TRACKER_STATS_DATABASE_URL");
  });

  it("takes a queue prefix, and on a Redis Cluster only one holding a hash tag", () => {
    process.env.LLM_TRACKER_QUEUE_PREFIX = "{llm-tracker}";
    expect(getTrackerSettings()).toMatchObject({ queuePrefix: "{llm-tracker}", redisCluster: false });
    configure({ LLM_TRACKER_REDIS_CLUSTER: "true" });
    expect(getTrackerSettings()).toMatchObject({ queuePrefix: "{llm-tracker}", redisCluster: true });
    for (const prefix of ["bull", "{}", "llm-tracker}", "a{b"]) {
      configure({ LLM_TRACKER_QUEUE_PREFIX: prefix });
      expect(configError(() => getTrackerSettings()).message).toBe(
        "LLM_TRACKER_QUEUE_PREFIX: needs a hash tag such as {llm-tracker} when LLM_TRACKER_REDIS_CLUSTER is true",
      );
    }
    configure({ LLM_TRACKER_QUEUE_PREFIX: "x{tenant-1}y" });
    expect(getTrackerSettings().queuePrefix).toBe("x{tenant-1}y");
    configure({ LLM_TRACKER_QUEUE_PREFIX: "has space" });
    expect(configError(() => getTrackerSettings()).key).toBe("LLM_TRACKER_QUEUE_PREFIX");
  });

  it("refuses a Redis database other than 0 on a cluster, which has only database 0", () => {
    configure({ LLM_TRACKER_REDIS_CLUSTER: true, LLM_TRACKER_QUEUE_PREFIX: "{t}", REDIS_URL: "redis://:hunter2@node-1:7000/3" });
    const bad = configError(() => getTrackerSettings());
    expect(bad.message).toBe("REDIS_URL: names a database other than 0, which a Redis Cluster does not have");
    expect(bad.message).not.toContain("hunter2");
    configure({ REDIS_URL: "redis://node-1:7000/0" });
    expect(getTrackerSettings().redisUrl).toBe("redis://node-1:7000/0");
  });
});
