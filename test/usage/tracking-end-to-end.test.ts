// callAndTrack / record → producer → BullMQ → the real usage worker → llm_tracker_usage.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, flush, LLMTracker, shutdown, type SettingsInput } from "../../src/index.js";
import { resetConfiguration } from "../../src/config/settings.js";
import { createLogger } from "../../src/logger.js";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { loadFixture, startFakeProvider, type FakeProvider } from "../fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { waitFor } from "./redis-process.js";

const messages = [{ role: "user" as const, content: "hello" }];
let fake: FakeProvider;
let db: TestDatabase;
let sql: postgres.Sql;
let worker: UsageWorkerHandle;
let queueName: string;
let spoolDir: string;

const providers: Record<string, () => SettingsInput> = {
  openai: () => ({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: "sk-e2e-openai-key-123456", base_url: `${fake.url}/v1` } }),
  azure_openai: () => ({ LLM_PROVIDER: "azure_openai", AZURE_OPENAI_CONFIG: { api_key: "azure-e2e-key-123456", api_base: fake.url, deployment: "prod-gpt4o", api_version: "2024-10-21" } }),
  gemini: () => ({ LLM_PROVIDER: "gemini", GEMINI_CONFIG: { api_key: "AIzaE2EGeminiKey1234567890", base_url: fake.url } }),
};

function use(provider: string) {
  configure({
    ...providers[provider]!(),
    LLM_MAX_RETRIES: 0,
    REDIS_URL: TEST_REDIS_URL,
    LLM_TRACKER_QUEUE: queueName,
    LLM_TRACKER_SPOOL_DIR: spoolDir,
    LLM_TRACKER_HANDLE_SIGNALS: false,
    LLM_TRACKER_LOG_LEVEL: "silent",
  });
}

async function row(id: string) {
  await flush();
  let rows: postgres.Row[] = [];
  await waitFor(async () => (rows = await sql`select * from llm_tracker_usage where id = ${id}`).length === 1, 20_000, `row ${id}`);
  return rows[0]!;
}

async function latestRowFor(nodeName: string) {
  await flush();
  let rows: postgres.Row[] = [];
  await waitFor(async () => (rows = await sql`select * from llm_tracker_usage where metadata->>'node_name' = ${nodeName}`).length === 1, 20_000, `row of ${nodeName}`);
  return rows[0]!;
}

beforeAll(async () => {
  fake = await startFakeProvider();
  db = await createTestDatabase();
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-spool-"));
  worker = await startUsageWorker({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, batchSize: 100, flushMs: 10, logger: createLogger("silent") });
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await shutdown();
  resetConfiguration();
  await worker?.close();
  await sql?.end();
  await db?.drop();
  await obliterateQueue(queueName);
  await fake?.close();
  await rm(spoolDir, { recursive: true, force: true });
});

describe("tracked calls end to end", () => {
  it.each([
    ["openai", "gpt-4.1-mini-2025-04-14", 19, 9],
    ["azure_openai", "gpt-4o-2024-11-20", 15, 10],
    ["gemini", "gemini-2.0-flash", 6, 9],
  ])("%s: a successful call becomes one row with its usage and metadata", async (provider, model, prompt, completion) => {
    use(provider);
    const node = `e2e-${provider}`;
    const { usage } = await LLMTracker.callAndTrack({ messages, nodeName: node, state: { user_id: 7, source_type: "task", metadata: { run: provider } } });
    const stored = await latestRowFor(node);
    expect(stored).toMatchObject({ model, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, success: true, error: null, user_id: "7" });
    expect(stored.prompt_tokens).toBe(usage.prompt_tokens);
    expect(stored.metadata).toEqual({ node_name: node, source_type: "task", run: provider });
  });

  it("a failed call becomes a failed row; an empty answer's row keeps its usage", async () => {
    use("openai");
    fake.enqueue({ status: 500, body: loadFixture("openai/error-500-server-error") });
    await expect(LLMTracker.callAndTrack({ messages, nodeName: "e2e-500" })).rejects.toThrow();
    expect(await latestRowFor("e2e-500")).toMatchObject({ success: false, total_tokens: 0 });
    expect((await latestRowFor("e2e-500")).error).toMatch(/^InternalServerError \(status 500\)/);

    fake.enqueue({ body: loadFixture("openai/chat-completion-null-content") });
    await expect(LLMTracker.callAndTrack({ messages, nodeName: "e2e-empty" })).rejects.toThrow("LLM returned empty response");
    expect(await latestRowFor("e2e-empty")).toMatchObject({ success: false, prompt_tokens: 12, completion_tokens: 256, reasoning_tokens: 256 });
  });

  it("record() becomes a row with the given time of the call", async () => {
    use("openai");
    const id = LLMTracker.record({ usage: { model: "external-model", prompt_tokens: 3, completion_tokens: 4 }, createdAt: "2025-03-01T10:00:00+08:00", nodeName: "ext" });
    const stored = await row(id);
    expect(stored).toMatchObject({ model: "external-model", total_tokens: 7, success: true });
    expect((stored.created_at as Date).toISOString()).toBe("2025-03-01T02:00:00.000Z");
  });
});
