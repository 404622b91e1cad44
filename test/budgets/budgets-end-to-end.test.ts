// Budgets end to end: tracked calls against the fake provider, the real worker keeping
// spend in Redis from the rows it inserted, and the call path refusing what is spent.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import OpenAI from "openai";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BudgetExceededError, configure, flush, getBudgetStatus, LLMTracker, shutdown, trackOpenAI, type BudgetInput } from "../../src/index.js";
import { getBudgetGuard } from "../../src/budgets/default-guard.js";
import { spendKeyBase, UNITS_PER_USD, usdTextToUnits } from "../../src/budgets/spend-keys.js";
import { resetConfiguration, type Budget } from "../../src/config/settings.js";
import { pino } from "pino";
import { startWorkerOps, type WorkerOps } from "../../src/ops/worker-ops.js";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { startFakeProvider, type FakeProvider } from "../fake-provider/fake-provider.js";
import { freePort } from "../support/free-port.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { waitFor } from "../support/wait-for.js";

const messages = [{ role: "user" as const, content: "hello" }];
/** What the worker counts: every (period, zone, scope) the tests below use. */
const WORKER_BUDGETS: Budget[] = [
  { scope: "user", key: null, period: "day", limitUsd: 1, timeZone: "UTC" },
  { scope: "node", key: null, period: "day", limitUsd: 1, timeZone: "UTC" },
  { scope: "global", key: null, period: "month", limitUsd: 1, timeZone: "UTC" },
  { scope: "global", key: null, period: "day", limitUsd: 1, timeZone: "Asia/Kolkata" },
];

let fake: FakeProvider;
let db: TestDatabase;
let sql: postgres.Sql;
let redis: Redis;
let worker: UsageWorkerHandle;
let queueName: string;
let spoolDir: string;
/** What one default fake chat completion costs, in USD (from its row). */
let callCost: number;
/** The worker's log lines (warn and above), parsed. */
const logLines: Record<string, unknown>[] = [];
let ops: WorkerOps;

function use(budgets: BudgetInput[], overrides: Record<string, unknown> = {}) {
  resetConfiguration();
  configure({
    LLM_PROVIDER: "openai",
    OPENAI_CONFIG: { api_key: "sk-budget-test-key-123456", base_url: `${fake.url}/v1`, model: "gpt-4.1-mini" },
    LLM_MAX_RETRIES: 0,
    REDIS_URL: TEST_REDIS_URL,
    LLM_TRACKER_QUEUE: queueName,
    LLM_TRACKER_SPOOL_DIR: spoolDir,
    LLM_TRACKER_HANDLE_SIGNALS: false,
    LLM_TRACKER_LOG_LEVEL: "silent",
    LLM_TRACKER_BUDGETS: budgets,
    // Every callAndTrack reads the spend again: the tests see each committed row at once.
    LLM_TRACKER_BUDGET_CACHE_MS: 1,
    ...overrides,
  });
}

const call = (userId: string | null, nodeName = "chat") => LLMTracker.callAndTrack({ messages, nodeName, state: { user_id: userId } });

/** Postgres's sum of cost_usd for the rows matching `where`, as spend units. */
async function pgUnits(where = sql`true`): Promise<bigint> {
  const [row] = await sql<{ cost: string | null }[]>`select sum(cost_usd)::text as cost from llm_tracker_usage where ${where}`;
  return row?.cost ? usdTextToUnits(row.cost) : 0n;
}

const monthHash = () => `${spendKeyBase("bull", queueName)}:month:UTC:${new Date().toISOString().slice(0, 7)}`;

/** Waits until every call handed over so far is a row and in the spend (queue drained, Redis = Postgres); the spend in units. */
async function settledSpend(): Promise<bigint> {
  await flush();
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  try {
    const settled = await waitFor(async () => {
      const counts = await queue.getJobCounts("waiting", "active", "delayed");
      if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) > 0) return undefined;
      const units = await pgUnits();
      return BigInt((await redis.hget(monthHash(), "g")) ?? "-1") === units ? { units } : undefined;
    }, 20_000, "queue drained and Redis spend = Postgres sum");
    return settled!.units;
  } finally {
    await queue.close();
  }
}

async function spentOf(filter: (s: Awaited<ReturnType<typeof getBudgetStatus>>[number]) => boolean): Promise<number> {
  const status = await getBudgetStatus();
  return status.find(filter)?.spent_usd ?? 0;
}

beforeAll(async () => {
  fake = await startFakeProvider();
  db = await createTestDatabase();
  queueName = testQueueName();
  spoolDir = await mkdtemp(join(tmpdir(), "llmt-budget-spool-"));
  const logger = pino({ level: "warn" }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  worker = await startUsageWorker({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, batchSize: 100, flushMs: 5, logger, budgets: WORKER_BUDGETS, budgetCheckMs: 100 });
  ops = await startWorkerOps({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, spoolDir, httpPort: 0, listenPort: 0, host: "127.0.0.1", budgets: WORKER_BUDGETS });
  sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
  redis = new Redis(TEST_REDIS_URL);
  // The price of one call, measured once without budgets.
  use([]);
  await LLMTracker.callAndTrack({ messages, nodeName: "price-probe", state: { user_id: "price-probe" } });
  await flush();
  const rows = await waitFor(async () => {
    const found = await sql<{ cost: string }[]>`select cost_usd::text as cost from llm_tracker_usage where user_id = 'price-probe'`;
    return found.length === 1 ? found : undefined;
  });
  callCost = Number(rows![0]!.cost);
  expect(callCost).toBeGreaterThan(0);
});

afterAll(async () => {
  await shutdown();
  resetConfiguration();
  await worker?.close();
  await ops?.close();
  await sql?.end();
  const keys = await redis.keys(`${spendKeyBase("bull", queueName)}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis?.disconnect();
  await db?.drop();
  await obliterateQueue(queueName);
  await fake?.close();
  await rm(spoolDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await shutdown();
});

describe("budgets", () => {
  it("refuses a user's call once the user's daily budget is spent, without reaching the provider, while another user's call goes through", async () => {
    use([{ scope: "user", period: "day", limit_usd: callCost * 1.5 }]);
    await call("alice");
    await call("alice"); // spend 1 × cost < 1.5 × cost: allowed
    await flush();
    await waitFor(async () => (await spentOf((s) => s.key === "alice")) >= callCost * 2 - 1e-12, 20_000, "alice's spend in Redis");

    const before = fake.requests.length;
    const refused = await call("alice").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BudgetExceededError);
    expect(refused).toMatchObject({ scope: "user", key: "alice", period: "day", limit_usd: callCost * 1.5 });
    expect((refused as BudgetExceededError).spent_usd).toBeCloseTo(callCost * 2, 12);
    expect((refused as Error).message).toMatch(/^Budget exceeded: user "alice" has spent \$[\d.]+ of its \$[\d.]+ daily budget \(UTC\)$/);
    expect(fake.requests.length).toBe(before); // no provider call
    // A stream is refused the same way, before it opens.
    await expect(LLMTracker.streamAndTrack({ messages, nodeName: "chat", state: { user_id: "alice" } })).rejects.toBeInstanceOf(BudgetExceededError);
    expect(fake.requests.length).toBe(before);

    await call("bob");
    expect(fake.requests.length).toBe(before + 1);

    // Nothing was recorded for the refused call.
    await flush();
    await waitFor(async () => (await sql`select 1 from llm_tracker_usage where user_id = 'bob'`).length === 1);
    const [counted] = await sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage where user_id = 'alice'`;
    expect(counted!.n).toBe(2);
    expect(getBudgetGuard()!.counters.refusals).toBe(2);

    const status = await getBudgetStatus({ userId: "alice" });
    expect(status).toEqual([
      expect.objectContaining({ scope: "user", key: "alice", period: "day", time_zone: "UTC", limit_usd: callCost * 1.5, remaining_usd: 0 }),
    ]);
  });

  it("logs once when a budget crosses 80 % and 100 %, and shows each budget on the worker's /metrics", async () => {
    // The worker counts every user daily with a 1 USD limit: make one user cross both lines.
    const usage = { model: "gpt-4.1-mini", prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 }; // 0.40 USD each
    use([{ scope: "user", period: "day", limit_usd: 1 }]);
    for (let i = 0; i < 2; i += 1) LLMTracker.record({ usage, state: { user_id: "big-spender" } });
    await flush();
    await waitFor(() => logLines.some((l) => l.msg === "budget crossed 80 %" && l.key === "big-spender"), 20_000, "the 80 % line");
    LLMTracker.record({ usage, state: { user_id: "big-spender" } });
    await flush();
    await waitFor(() => logLines.some((l) => String(l.msg).startsWith("budget reached 100 %") && l.key === "big-spender"), 20_000, "the 100 % line");
    expect(logLines.filter((l) => l.key === "big-spender")).toHaveLength(2);
    expect(logLines.find((l) => l.msg === "budget crossed 80 %")).toMatchObject({ scope: "user", period: "day", timeZone: "UTC", limitUsd: 1, spentUsd: 0.8 });

    await expect(call("big-spender")).rejects.toBeInstanceOf(BudgetExceededError);
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${ops.server!.url}/metrics`)).text();
      return text.includes('llm_tracker_budget_refusals{scope="user",key="*",period="day",time_zone="UTC"}') ? text : undefined;
    }, 20_000, "the refusal on /metrics");
    expect(metrics).toContain('llm_tracker_budget_spent_usd{scope="user",key="big-spender",period="day",time_zone="UTC"} 1.2');
    expect(metrics).toContain('llm_tracker_budget_remaining_usd{scope="user",key="big-spender",period="day",time_zone="UTC"} 0');
    expect(metrics).toContain('llm_tracker_budget_limit_usd{scope="global",key="",period="month",time_zone="UTC"} 1');
  });

  it("refuses calls made through trackOpenAI too, synchronously, from what the snapshot holds", async () => {
    use([{ scope: "user", key: "carol", period: "day", limit_usd: callCost / 2 }]);
    await call("carol");
    await flush();
    await waitFor(async () => (await spentOf((s) => s.key === "carol")) > 0, 20_000, "carol's spend in Redis");
    await expect(call("carol")).rejects.toBeInstanceOf(BudgetExceededError); // the snapshot now holds carol's spend

    const openai = trackOpenAI(new OpenAI({ apiKey: "sk-budget-test-key-123456", baseURL: `${fake.url}/v1`, maxRetries: 0 }), { state: { user_id: "carol" } });
    const before = fake.requests.length;
    expect(() => openai.chat.completions.create({ model: "gpt-4.1-mini", messages })).toThrow(BudgetExceededError);
    expect(fake.requests.length).toBe(before);
    // Another user through the same wrapper is not refused.
    const other = trackOpenAI(new OpenAI({ apiKey: "sk-budget-test-key-123456", baseURL: `${fake.url}/v1`, maxRetries: 0 }), { state: { user_id: "dave" } });
    await other.chat.completions.create({ model: "gpt-4.1-mini", messages });
    expect(fake.requests.length).toBe(before + 1);
  });

  it("refuses every call of a node once the node's daily budget is spent", async () => {
    use([{ scope: "node", key: "summarize", period: "day", limit_usd: callCost / 2 }]);
    await call("erin", "summarize");
    await flush();
    await waitFor(async () => (await spentOf((s) => s.scope === "node" && s.key === "summarize")) > 0, 20_000, "the node's spend");
    const refused = await call("frank", "summarize").catch((error: unknown) => error);
    expect(refused).toMatchObject({ scope: "node", key: "summarize", period: "day" });
    await call("frank", "interpret"); // another node
  });

  it("refuses every call once the global monthly budget is spent", async () => {
    // Once every call so far is in Postgres and in the spend: the limit is half a call above it.
    const spent = await settledSpend();
    use([{ scope: "global", period: "month", limit_usd: Number(spent) / Number(UNITS_PER_USD) + callCost / 2 }]);
    await call("gina");
    await flush();
    await waitFor(async () => (await spentOf((s) => s.scope === "global")) * Number(UNITS_PER_USD) >= Number(spent) + callCost * 1e10 * 0.99, 20_000, "the global spend");
    const refused = await call("harry").catch((error: unknown) => error);
    expect(refused).toMatchObject({ scope: "global", key: null, period: "month", time_zone: "UTC" });
  });

  it("keeps the spend equal to Postgres's sum, and rebuilds it from Postgres after its keys were flushed from Redis", async () => {
    use([{ scope: "global", period: "month", limit_usd: 1_000 }]);
    await call("ivan");
    await flush();
    const hash = monthHash();
    await settledSpend();
    const keys = await redis.keys(`${spendKeyBase("bull", queueName)}*`);
    await redis.del(...keys);
    await waitFor(async () => BigInt((await redis.hget(hash, "g")) ?? "-1") === (await pgUnits()), 20_000, "the rebuilt spend");
    expect(await redis.hexists(hash, "__snapshot")).toBe(1);
  });

  it("counts a row in the period of its created_at in the budget's zone: midnight in Asia/Kolkata splits two rows a millisecond apart", async () => {
    use([{ scope: "global", period: "day", limit_usd: 1_000, time_zone: "Asia/Kolkata" }]);
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(new Date()); // YYYY-MM-DD
    const midnight = new Date(`${today}T00:00:00.000+05:30`);
    const hash = `${spendKeyBase("bull", queueName)}:day:Asia/Kolkata:${today}`;
    const usage = { model: "gpt-4.1-mini", prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 };
    const readG = async () => BigInt((await redis.hget(hash, "g")) ?? "0");
    await waitFor(async () => (await redis.hexists(hash, "__snapshot")) === 1, 20_000, "today's hash rebuilt");
    const base = await readG();
    LLMTracker.record({ usage, createdAt: new Date(midnight.getTime() - 1), nodeName: "zone-yesterday" });
    LLMTracker.record({ usage, createdAt: midnight, nodeName: "zone-today" });
    await flush();
    await waitFor(async () => (await sql`select 1 from llm_tracker_usage where metadata->>'node_name' like 'zone-%'`).length === 2);
    const todayUnits = await pgUnits(sql`metadata->>'node_name' = 'zone-today'`);
    expect(todayUnits).toBeGreaterThan(0n);
    await waitFor(async () => (await readG()) === base + todayUnits, 20_000, "today's row counted, yesterday's not");
    // The rebuild draws the same line (the zone's midnight is not a whole UTC hour: raw rows at the edge).
    const [sinceRow] = await sql<{ since: string }[]>`select sum(cost_usd)::text as since from llm_tracker_usage where created_at >= ${midnight.toISOString()}::timestamptz`;
    await redis.del(hash);
    await waitFor(async () => (await redis.hexists(hash, "__snapshot")) === 1, 20_000, "rebuilt");
    expect(await readG()).toBe(usdTextToUnits(sinceRow!.since));
  });

  it("allows calls while Redis is unreachable, and counts the failed checks", async () => {
    const port = await freePort();
    use([{ scope: "user", period: "day", limit_usd: 0 }], { REDIS_URL: `redis://127.0.0.1:${port}` });
    const before = fake.requests.length;
    await call("ivy");
    await call("ivy");
    expect(fake.requests.length).toBe(before + 2);
    expect(getBudgetGuard()!.counters.checkFailures).toBeGreaterThanOrEqual(1);
    expect(getBudgetGuard()!.counters.allowedUnknown).toBeGreaterThanOrEqual(2);
  });
});
