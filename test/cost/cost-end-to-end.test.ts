// Cost through the real worker (Redis → worker → Postgres), the stats money
// (rollup and raw edges), and recomputeCosts after a price change. The worker
// reads its prices from the environment: a user price file (LLM_TRACKER_PRICES)
// and an Azure deployment map (LLM_TRACKER_AZURE_DEPLOYMENTS).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetConfiguration } from "../../src/config/settings.js";
import { createPriceBook, type PriceBook } from "../../src/cost/index.js";
import { createConnection } from "../../src/db/connection.js";
import { getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats, recomputeCosts } from "../../src/stats/index.js";
import type { UsageEvent } from "../../src/usage/usage-event.js";
import { startUsageWorker, type UsageWorkerHandle } from "../../workers/usage-worker.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { addEventJobs, makeEvent, waitFor } from "../support/usage-events.js";

const DAY = "2025-03-04";
const AT = (time: string) => `${DAY}T${time}+00:00`;

/** The user's price file: gpt-4o-mini's input and output replaced, its cache-read price kept (field-by-field merge). */
const USER_PRICES = {
  version: "acme-2027-01",
  models: { "gpt-4o-mini": { input_cost_per_token: "0.0000002", output_cost_per_token: "0.000001" } },
};
const AZURE_DEPLOYMENTS = { "prod-chat": "gpt-4o-mini" };

const event = (overrides: Partial<UsageEvent>) => makeEvent({ cached_tokens: 0, reasoning_tokens: 0, ...overrides });

// Each expected cost is worked out by hand from src/cost/prices/prices.json (and the user file).
const CALLS = {
  // o4-mini: input 1.1e-6, cache read 2.75e-7, output 4.4e-6 (no reasoning price → output price).
  // 6,000 × 1.1e-6 = 0.0066; 4,000 × 2.75e-7 = 0.0011; (500 + 1,500) × 4.4e-6 = 0.0088 → 0.0165
  openaiCachedReasoning: {
    event: event({ provider: "openai", model: "o4-mini-2025-04-16", prompt_tokens: 10_000, cached_tokens: 4_000, completion_tokens: 2_000, reasoning_tokens: 1_500, total_tokens: 12_000, user_id: "u1", metadata: { node_name: "plan" }, created_at: AT("01:10:00.000001") }),
    cost: "0.0165000000",
  },
  // gemini-2.5-flash: input 3e-7, cache 3e-8, output 2.5e-6, reasoning 2.5e-6.
  // 4,000 × 3e-7 = 0.0012; 8,000 × 3e-8 = 0.00024; 600 × 2.5e-6 = 0.0015; 2,400 × 2.5e-6 = 0.006 → 0.00894
  geminiThinkingCache: {
    event: event({ provider: "gemini", model: "gemini-2.5-flash", prompt_tokens: 12_000, cached_tokens: 8_000, completion_tokens: 3_000, reasoning_tokens: 2_400, total_tokens: 15_000, user_id: "u1", metadata: { node_name: "answer" }, created_at: AT("02:20:00") }),
    cost: "0.0089400000",
  },
  // gemini-2.5-pro above 200k prompt tokens: the whole call at input 2.5e-6, cache 2.5e-7, output 1.5e-5.
  // 200,000 × 2.5e-6 = 0.5; 50,000 × 2.5e-7 = 0.0125; 10,000 × 1.5e-5 = 0.15 → 0.6625
  longContext: {
    event: event({ provider: "gemini", model: "models/gemini-2.5-pro", prompt_tokens: 250_000, cached_tokens: 50_000, completion_tokens: 10_000, reasoning_tokens: 4_000, total_tokens: 260_000, user_id: "u2", metadata: { node_name: "answer" }, created_at: AT("03:30:00") }),
    cost: "0.6625000000",
  },
  // The response names no model; deployment prod-chat → gpt-4o-mini → azure/gpt-4o-mini (input 1.65e-7, output 6.6e-7;
  // the user file overrides OpenAI's gpt-4o-mini, not Azure's). 1,000 × 1.65e-7 + 1,000 × 6.6e-7 = 0.000825
  azureDeployment: {
    event: event({ provider: "azure_openai", model: "", deployment: "prod-chat", prompt_tokens: 1_000, completion_tokens: 1_000, total_tokens: 2_000, user_id: "u2", metadata: {}, created_at: AT("04:40:00") }),
    cost: "0.0008250000",
  },
  // The user file's gpt-4o-mini: input 2e-7, output 1e-6, cache read still the shipped 7.5e-8.
  // 800 × 2e-7 = 0.00016; 200 × 7.5e-8 = 0.000015; 500 × 1e-6 = 0.0005 → 0.000675 (shipped prices: 0.000435)
  userPriceFile: {
    event: event({ provider: "openai", model: "gpt-4o-mini-2024-07-18", prompt_tokens: 1_000, cached_tokens: 200, completion_tokens: 500, total_tokens: 1_500, user_id: null, metadata: { node_name: "plan" }, created_at: AT("05:50:00") }),
    cost: "0.0006750000",
  },
  // One prompt token at 2e-7: below the stats' 1e-6 rounding, so the sums show the rounding.
  tiny: {
    event: event({ provider: "openai", model: "gpt-4o-mini", prompt_tokens: 1, completion_tokens: 0, total_tokens: 1, user_id: null, metadata: { node_name: "plan" }, created_at: AT("05:50:00") }),
    cost: "0.0000002000",
  },
  unknownModel: {
    event: event({ provider: "openai", model: "llama-3-70b", prompt_tokens: 10, completion_tokens: 10, total_tokens: 20, user_id: "u3", metadata: {}, created_at: AT("06:00:00") }),
    cost: null,
  },
  // The next day: outside the range recomputed below.
  nextDay: {
    event: event({ provider: "openai", model: "gpt-4o", prompt_tokens: 1_000, completion_tokens: 0, total_tokens: 1_000, user_id: "u1", metadata: {}, created_at: "2025-03-05T00:30:00+00:00" }),
    cost: "0.0025000000",
  },
} satisfies Record<string, { event: UsageEvent; cost: string | null }>;

let database: TestDatabase;
let sql: postgres.Sql;
let worker: UsageWorkerHandle;
let workerBook: PriceBook;
let priceDir: string;
let unpricedSeen = 0;
const queueName = testQueueName();

async function rowCosts(): Promise<Map<string, { cost: string | null; version: string | null }>> {
  const rows = await sql<{ id: string; cost_usd: string | null; price_version: string | null }[]>`SELECT id, cost_usd, price_version FROM llm_tracker_usage`;
  return new Map(rows.map((row) => [row.id, { cost: row.cost_usd, version: row.price_version }]));
}

/** The exact sum of the rows' cost_usd over [from, to), rounded as the stats round it. */
async function roundedRowSum(from: string, to: string, where = sql`true`): Promise<number> {
  const [row] = await sql<{ total: number }[]>`
    SELECT round(coalesce(sum(cost_usd), 0), 6)::float8 AS total FROM llm_tracker_usage
    WHERE created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz AND ${where}`;
  return row!.total;
}

beforeAll(async () => {
  database = await createTestDatabase();
  priceDir = await mkdtemp(join(tmpdir(), "llmt-prices-"));
  const pricesPath = join(priceDir, "prices.json");
  await writeFile(pricesPath, JSON.stringify(USER_PRICES));
  process.env.LLM_TRACKER_PRICES = pricesPath;
  process.env.LLM_TRACKER_AZURE_DEPLOYMENTS = JSON.stringify(AZURE_DEPLOYMENTS);
  resetConfiguration(); // settings are cached per configuration: read the environment afresh
  workerBook = createPriceBook({ pricesPath, azureDeployments: AZURE_DEPLOYMENTS });

  worker = await startUsageWorker({
    redisUrl: TEST_REDIS_URL,
    databaseUrl: database.url,
    queueName,
    batchSize: 100,
    flushMs: 20,
    logger: pino({ level: "silent" }),
    observer: { unpriced: ({ events }) => (unpricedSeen += events) },
  });
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const events = Object.values(CALLS).map((call) => call.event);
  await addEventJobs(queueName, [events.slice(0, 4), events.slice(4)]);
  await waitFor(async () => (await rowCosts()).size === events.length, 20_000, "every event written");
});

afterAll(async () => {
  await worker?.close();
  await sql?.end();
  await obliterateQueue(queueName);
  await database?.drop();
  delete process.env.LLM_TRACKER_PRICES;
  delete process.env.LLM_TRACKER_AZURE_DEPLOYMENTS;
  resetConfiguration();
  if (priceDir) await rm(priceDir, { recursive: true, force: true });
});

describe("cost written by the worker", () => {
  it("stores each row's hand-computed cost exactly, with the price version of the configured prices", async () => {
    const rows = await rowCosts();
    for (const [name, call] of Object.entries(CALLS)) {
      expect(rows.get(call.event.id), name).toEqual({ cost: call.cost, version: workerBook.version });
    }
    // The user file and deployment map make a version of their own beside the shipped one.
    expect(workerBook.version).toMatch(/^\d{4}-\d{2}-\d{2}\+[0-9a-f]{12}$/);
    expect(workerBook.version).not.toBe(createPriceBook().version);
  });

  it("counts the unknown model as unpriced, in the stats and through the observer", async () => {
    const summary = await getSummaryStats(DAY, DAY, { db: sql });
    expect(summary.unpriced_calls).toBe(1);
    expect(summary.total_calls).toBe(7);
    expect(unpricedSeen).toBe(1);
  });

  it("gives total_cost_usd as the sum of the rows rounded to 1e-6 in every report", async () => {
    // 0.0165 + 0.00894 + 0.6625 + 0.000825 + 0.000675 + 0.0000002 = 0.6894402 → 0.68944
    expect((await getSummaryStats(DAY, DAY, { db: sql })).total_cost_usd).toBe(0.68944);
    const byModel = Object.fromEntries((await getStatsByModel(DAY, DAY, { db: sql })).map((row) => [row.model, row.total_cost_usd]));
    expect(byModel).toEqual({
      "o4-mini-2025-04-16": 0.0165,
      "gemini-2.5-flash": 0.00894,
      "models/gemini-2.5-pro": 0.6625,
      "": 0.000825,
      "gpt-4o-mini-2024-07-18": 0.000675,
      "gpt-4o-mini": 0, // 0.0000002 rounds to 0
      "llama-3-70b": 0,
    });
    const byUser = Object.fromEntries((await getStatsByUser(DAY, DAY, { db: sql })).map((row) => [String(row.user_id), row.total_cost_usd]));
    expect(byUser).toEqual({ u1: 0.02544, u2: 0.663325, null: 0.000675, u3: 0 }); // null: 0.0006752
    const byNode = Object.fromEntries((await getStatsByNode(DAY, DAY, { db: sql })).map((row) => [String(row.node_name), row.total_cost_usd]));
    expect(byNode).toEqual({ plan: 0.017175, answer: 0.67144, null: 0.000825 }); // plan: 0.0171752
    expect(await getStatsByDay(DAY, "2025-03-05", { db: sql })).toEqual([
      expect.objectContaining({ date: DAY, total_cost_usd: 0.68944 }),
      expect.objectContaining({ date: "2025-03-05", total_cost_usd: 0.0025 }),
    ]);
  });

  it("gives the same money from whole rollup buckets as from raw edges of the range", async () => {
    // Minutes into the first and last hour: those parts are read from raw rows, the hours between from the rollup.
    const edges = await getSummaryStats(`${DAY}T01:05:00Z`, `${DAY}T06:00:00.000001Z`, { db: sql });
    expect(edges.total_cost_usd).toBe(await roundedRowSum(`${DAY}T01:05:00Z`, `${DAY}T06:00:00.000001Z`));
    expect(edges.total_cost_usd).toBe(0.68944);
    expect(edges.unpriced_calls).toBe(1);
  });
});

describe("recomputeCosts", () => {
  it("re-prices the range with changed prices in chunks; rows, rollup and stats follow; other days are untouched", async () => {
    // New prices: the unknown model gets one, o4-mini's output doubles.
    const changed = createPriceBook({
      azureDeployments: AZURE_DEPLOYMENTS,
      overrides: {
        "llama-3-70b": { litellm_provider: "openai", input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
        "o4-mini": { output_cost_per_token: "0.0000088" },
      },
    });
    const before = await rowCosts();

    // One row per chunk: the keyset passes a created_at with microseconds (01:10:00.000001)
    // and two rows sharing one created_at (05:50), each row exactly once.
    const result = await recomputeCosts(DAY, DAY, { db: sql, priceBook: changed, chunkSize: 1 });
    expect(result).toEqual({ rows_repriced: 7, rows_changed: 7, unpriced_calls: 0, price_version: changed.version });

    const after = await rowCosts();
    const cost = (call: { event: UsageEvent }) => after.get(call.event.id);
    // o4-mini: 0.0066 + 0.0011 + 2,000 × 8.8e-6 (0.0176) = 0.0253
    expect(cost(CALLS.openaiCachedReasoning)).toEqual({ cost: "0.0253000000", version: changed.version });
    // llama-3-70b: 10 × 1e-6 + 10 × 2e-6 = 0.00003
    expect(cost(CALLS.unknownModel)).toEqual({ cost: "0.0000300000", version: changed.version });
    // Without the user file gpt-4o-mini is back at the shipped 0.000435.
    expect(cost(CALLS.userPriceFile)).toEqual({ cost: "0.0004350000", version: changed.version });
    expect(cost(CALLS.longContext)).toEqual({ cost: "0.6625000000", version: changed.version });
    // Outside the range: as the worker priced it.
    expect(cost(CALLS.nextDay)).toEqual(before.get(CALLS.nextDay.event.id));

    // Whole-day stats read the rollup, which the UPDATE trigger kept in step.
    const summary = await getSummaryStats(DAY, DAY, { db: sql });
    expect(summary.unpriced_calls).toBe(0);
    expect(summary.total_cost_usd).toBe(await roundedRowSum(`${DAY}T00:00:00Z`, "2025-03-05T00:00:00Z"));
    // 0.0253 + 0.00894 + 0.6625 + 0.000825 + 0.000435 + 0.00000015 (1 × 1.5e-7) + 0.00003 = 0.69803015
    expect(summary.total_cost_usd).toBe(0.69803);
    const [rollup] = await sql<{ exact: string; unpriced: string }[]>`
      SELECT sum(cost_usd)::text AS exact, sum(unpriced_calls)::text AS unpriced FROM llm_tracker_usage_rollup
      WHERE grain = 'day' AND dimension = 'model' AND bucket = ${`${DAY}T00:00:00Z`}::timestamptz`;
    const [raw] = await sql<{ exact: string }[]>`
      SELECT sum(cost_usd)::text AS exact FROM llm_tracker_usage WHERE created_at >= ${`${DAY}T00:00:00Z`}::timestamptz AND created_at < '2025-03-05T00:00:00Z'`;
    expect(Number(rollup!.exact)).toBe(Number(raw!.exact));
    expect(rollup!.exact.replace(/0+$/, "")).toBe("0.69803015");
    expect(rollup!.unpriced).toBe("0");
  });

  it("changes nothing when run again with the same prices, and reports what it saw", async () => {
    const book = createPriceBook({
      azureDeployments: AZURE_DEPLOYMENTS,
      overrides: {
        "llama-3-70b": { litellm_provider: "openai", input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
        "o4-mini": { output_cost_per_token: "0.0000088" },
      },
    });
    expect(await recomputeCosts(DAY, DAY, { db: sql, priceBook: book })).toEqual({ rows_repriced: 7, rows_changed: 0, unpriced_calls: 0, price_version: book.version });
  });

  it("uses the configured prices by default and counts the rows it can not price", async () => {
    // The environment's book (user file + deployments) has no llama-3-70b: that row is unpriced again.
    const result = await recomputeCosts(DAY, DAY, { db: sql });
    expect(result).toMatchObject({ rows_repriced: 7, unpriced_calls: 1, price_version: workerBook.version });
    expect((await rowCosts()).get(CALLS.userPriceFile.event.id)).toEqual({ cost: "0.0006750000", version: workerBook.version });
    expect((await getSummaryStats(DAY, DAY, { db: sql })).total_cost_usd).toBe(0.68944);
  });

  it("runs on a pool without postgres.js's fetched array types (createConnection's), writing null for rows it can not price", async () => {
    const connection = createConnection(database.url, { max: 1 });
    try {
      expect(connection.sql.options.fetch_types).toBe(false);
      const withLlama = createPriceBook({
        azureDeployments: AZURE_DEPLOYMENTS,
        overrides: { "llama-3-70b": { litellm_provider: "openai", input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" } },
      });
      expect(await recomputeCosts(DAY, DAY, { db: connection, priceBook: withLlama, chunkSize: 3 })).toMatchObject({ rows_repriced: 7, rows_changed: 7, unpriced_calls: 0 });
      expect((await rowCosts()).get(CALLS.unknownModel.event.id)).toEqual({ cost: "0.0000300000", version: withLlama.version });
      // Back to the configured prices: the id and a null cost travel together.
      expect(await recomputeCosts(DAY, DAY, { db: connection, chunkSize: 3 })).toMatchObject({ rows_repriced: 7, rows_changed: 7, unpriced_calls: 1 });
      expect((await rowCosts()).get(CALLS.unknownModel.event.id)).toEqual({ cost: null, version: workerBook.version });
      expect((await getSummaryStats(DAY, DAY, { db: connection })).total_cost_usd).toBe(0.68944);
    } finally {
      await connection.close();
    }
  });

  it("refuses bad dates before touching a row", async () => {
    await expect(recomputeCosts("yesterday", DAY, { db: sql })).rejects.toThrow(/startDate/);
  });
});
