// Totals and groupings over hand-made rows: failed and successful calls, a
// null user_id, rows without node_name, ties, sums beyond 2^31, empty ranges.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConnection, type DatabaseConnection } from "../../src/db/connection.js";
import { runMigrations } from "../../src/db/migrate.js";
import { InvalidInputError } from "../../src/errors/invalid-input-error.js";
import { getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

interface Row {
  user_id: string | null;
  model: string;
  prompt: number;
  completion: number;
  success: boolean;
  metadata: Record<string, string>;
  at: string;
  latency?: number | null;
  ttft?: number | null;
}

// All on 2026-03-10 (UTC). r2 and r5 failed; r4 has no user; r4 and r5 no node_name;
// r4 has no latency; r3 and r6 were streamed (a time to first token).
const ROWS: Row[] = [
  { user_id: "u1", model: "gpt-4o", prompt: 100, completion: 50, success: true, metadata: { node_name: "interpret" }, at: "2026-03-10T01:00:00Z", latency: 1000 },
  { user_id: "u1", model: "gpt-4o", prompt: 200, completion: 100, success: false, metadata: { node_name: "interpret" }, at: "2026-03-10T02:00:00Z", latency: 3000 },
  { user_id: "u2", model: "gemini-2.5-flash", prompt: 300, completion: 150, success: true, metadata: { node_name: "summarize" }, at: "2026-03-10T03:00:00Z", latency: 500, ttft: 120 },
  { user_id: null, model: "gemini-2.5-flash", prompt: 1000, completion: 0, success: true, metadata: {}, at: "2026-03-10T04:00:00Z", latency: null },
  { user_id: "u3", model: "claude", prompt: 0, completion: 0, success: false, metadata: { source_type: "task" }, at: "2026-03-10T05:00:00Z", latency: 250 },
  { user_id: "u4", model: "a-model", prompt: 400, completion: 50, success: true, metadata: { node_name: "summarize" }, at: "2026-03-10T06:00:00Z", latency: 2000, ttft: 300 },
];

// 2026-03-11: three rows of 10 tokens each, to see how ties with null sort.
const TIES: Row[] = [
  { user_id: null, model: "m", prompt: 10, completion: 0, success: true, metadata: {}, at: "2026-03-11T01:00:00Z" },
  { user_id: "zed", model: "m", prompt: 10, completion: 0, success: true, metadata: { node_name: "zed" }, at: "2026-03-11T02:00:00Z" },
  { user_id: "a", model: "m", prompt: 10, completion: 0, success: true, metadata: { node_name: "a" }, at: "2026-03-11T03:00:00Z" },
];

// 2025-01-01: three rows near the int4 maximum, so every sum overflows 32 bits.
const BIG = 2_000_000_000;

let database: TestDatabase;
let emptyDatabase: TestDatabase;
let db: Sql;
let empty: DatabaseConnection;

const insert = (rows: Row[]) =>
  db`INSERT INTO llm_tracker_usage ${db(
    rows.map((row) => ({
      id: crypto.randomUUID(),
      user_id: row.user_id,
      model: row.model,
      prompt_tokens: row.prompt,
      completion_tokens: row.completion,
      total_tokens: row.prompt + row.completion,
      cached_tokens: 0,
      reasoning_tokens: 0,
      success: row.success,
      error: row.success ? null : "provider said no",
      metadata: row.metadata,
      created_at: row.at,
      latency_ms: row.latency ?? null,
      streamed: row.ttft != null,
      time_to_first_token_ms: row.ttft ?? null,
    })),
  )}`;

beforeAll(async () => {
  [database, emptyDatabase] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await Promise.all([runMigrations(database.url), runMigrations(emptyDatabase.url)]);
  db = postgres(database.url, { onnotice: () => {} });
  empty = createConnection(emptyDatabase.url);
  await insert([...ROWS, ...TIES]);
  await insert(
    [0, 1, 2].map((i) => ({ user_id: "heavy", model: "big", prompt: BIG, completion: 0, success: true, metadata: { node_name: "bulk" }, at: `2025-01-01T0${i}:00:00Z` })),
  );
});

afterAll(async () => {
  await db?.end();
  await empty?.close();
  await Promise.all([database?.drop(), emptyDatabase?.drop()]);
});

const MARCH_10 = ["2026-03-10", "2026-03-10"] as const;
const MARCH_11 = ["2026-03-11", "2026-03-11"] as const;

describe("getSummaryStats", () => {
  it("sums tokens over successful and failed calls and counts each kind", async () => {
    expect(await getSummaryStats(...MARCH_10, { db })).toEqual({
      total_prompt_tokens: 2000,
      total_completion_tokens: 350,
      total_tokens: 2350,
      total_calls: 6,
      successful_calls: 4,
      failed_calls: 2,
      total_cost_usd: 0,
      unpriced_calls: 6,
      // (1000 + 3000 + 500 + 250 + 2000) / 5 calls with a latency; (120 + 300) / 2 streamed calls.
      avg_latency_ms: 1350,
      avg_time_to_first_token_ms: 210,
    });
  });

  it("returns exact numbers for sums beyond 2^31", async () => {
    const stats = await getSummaryStats("2025-01-01", "2025-01-01", { db });
    expect(stats.total_tokens).toBe(6_000_000_000);
    expect(typeof stats.total_tokens).toBe("number");
    expect(stats.total_prompt_tokens).toBe(6_000_000_000);
  });

  it("covers every row without dates", async () => {
    expect(await getSummaryStats(undefined, undefined, { db })).toMatchObject({ total_calls: 12, total_tokens: 2350 + 30 + 3 * BIG });
  });

  it("gives zeros, not nulls, over a range without rows", async () => {
    expect(await getSummaryStats("2020-01-01", "2020-12-31", { db })).toEqual({
      total_prompt_tokens: 0,
      total_completion_tokens: 0,
      total_tokens: 0,
      total_calls: 0,
      successful_calls: 0,
      failed_calls: 0,
      total_cost_usd: 0,
      unpriced_calls: 0,
      avg_latency_ms: 0,
      avg_time_to_first_token_ms: 0,
    });
  });
});

describe("getStatsByModel", () => {
  it("lists models by total_tokens descending, ties by model name", async () => {
    expect(await getStatsByModel(...MARCH_10, { db })).toEqual([
      { model: "gemini-2.5-flash", total_calls: 2, total_prompt_tokens: 1300, total_completion_tokens: 150, total_tokens: 1450, total_cost_usd: 0, avg_latency_ms: 500, avg_time_to_first_token_ms: 120 },
      { model: "a-model", total_calls: 1, total_prompt_tokens: 400, total_completion_tokens: 50, total_tokens: 450, total_cost_usd: 0, avg_latency_ms: 2000, avg_time_to_first_token_ms: 300 },
      { model: "gpt-4o", total_calls: 2, total_prompt_tokens: 300, total_completion_tokens: 150, total_tokens: 450, total_cost_usd: 0, avg_latency_ms: 2000, avg_time_to_first_token_ms: 0 },
      { model: "claude", total_calls: 1, total_prompt_tokens: 0, total_completion_tokens: 0, total_tokens: 0, total_cost_usd: 0, avg_latency_ms: 250, avg_time_to_first_token_ms: 0 },
    ]);
  });
});

describe("getStatsByUser", () => {
  it("groups calls without a user under null and breaks ties by user id", async () => {
    expect(await getStatsByUser(...MARCH_10, { db })).toEqual([
      { user_id: null, total_calls: 1, total_prompt_tokens: 1000, total_completion_tokens: 0, total_tokens: 1000, total_cost_usd: 0, avg_latency_ms: 0, avg_time_to_first_token_ms: 0 },
      { user_id: "u1", total_calls: 2, total_prompt_tokens: 300, total_completion_tokens: 150, total_tokens: 450, total_cost_usd: 0, avg_latency_ms: 2000, avg_time_to_first_token_ms: 0 },
      { user_id: "u2", total_calls: 1, total_prompt_tokens: 300, total_completion_tokens: 150, total_tokens: 450, total_cost_usd: 0, avg_latency_ms: 500, avg_time_to_first_token_ms: 120 },
      { user_id: "u4", total_calls: 1, total_prompt_tokens: 400, total_completion_tokens: 50, total_tokens: 450, total_cost_usd: 0, avg_latency_ms: 2000, avg_time_to_first_token_ms: 300 },
      { user_id: "u3", total_calls: 1, total_prompt_tokens: 0, total_completion_tokens: 0, total_tokens: 0, total_cost_usd: 0, avg_latency_ms: 250, avg_time_to_first_token_ms: 0 },
    ]);
  });

  it("puts null after named users on a tie", async () => {
    expect((await getStatsByUser(...MARCH_11, { db })).map((row) => [row.user_id, row.total_tokens])).toEqual([
      ["a", 10],
      ["zed", 10],
      [null, 10],
    ]);
  });
});

describe("options.limit of getStatsByUser and getStatsByNode", () => {
  it("keeps the top N by total_tokens, in the same order as the full list", async () => {
    for (const fn of [getStatsByUser, getStatsByNode]) {
      const all = await fn(...MARCH_10, { db });
      expect(await fn(...MARCH_10, { db, limit: 2 })).toEqual(all.slice(0, 2));
      expect(await fn(...MARCH_10, { db, limit: 100 })).toEqual(all);
    }
    // Ties keep their order under a limit: null after named users.
    expect((await getStatsByUser(...MARCH_11, { db, limit: 2 })).map((row) => row.user_id)).toEqual(["a", "zed"]);
  });

  it("rejects a limit that is not a positive integer, naming options.limit", async () => {
    for (const limit of [0, -1, 1.5, Number.NaN, "3"]) {
      const error = await getStatsByUser(...MARCH_10, { db, limit: limit as number }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(/^options\.limit: expected an integer from 1 to /);
    }
  });
});

describe("getStatsByNode", () => {
  it("groups by metadata.node_name, rows without one under null", async () => {
    expect(await getStatsByNode(...MARCH_10, { db })).toEqual([
      { node_name: null, total_calls: 2, total_prompt_tokens: 1000, total_completion_tokens: 0, total_tokens: 1000, total_cost_usd: 0, avg_latency_ms: 250, avg_time_to_first_token_ms: 0 },
      { node_name: "summarize", total_calls: 2, total_prompt_tokens: 700, total_completion_tokens: 200, total_tokens: 900, total_cost_usd: 0, avg_latency_ms: 1250, avg_time_to_first_token_ms: 210 },
      { node_name: "interpret", total_calls: 2, total_prompt_tokens: 300, total_completion_tokens: 150, total_tokens: 450, total_cost_usd: 0, avg_latency_ms: 2000, avg_time_to_first_token_ms: 0 },
    ]);
  });

  it("puts null after named nodes on a tie", async () => {
    expect((await getStatsByNode(...MARCH_11, { db })).map((row) => [row.node_name, row.total_tokens])).toEqual([
      ["a", 10],
      ["zed", 10],
      [null, 10],
    ]);
  });
});

describe("an empty table", () => {
  it("gives zeros and empty lists through a createConnection() connection", async () => {
    const options = { db: empty };
    expect(await getSummaryStats(undefined, undefined, options)).toEqual({
      total_prompt_tokens: 0,
      total_completion_tokens: 0,
      total_tokens: 0,
      total_calls: 0,
      successful_calls: 0,
      failed_calls: 0,
      total_cost_usd: 0,
      unpriced_calls: 0,
      avg_latency_ms: 0,
      avg_time_to_first_token_ms: 0,
    });
    expect(await getStatsByModel(undefined, undefined, options)).toEqual([]);
    expect(await getStatsByDay(undefined, undefined, options)).toEqual([]);
    expect(await getStatsByUser(undefined, undefined, options)).toEqual([]);
    expect(await getStatsByNode(undefined, undefined, options)).toEqual([]);
  });
});

describe("bad arguments", () => {
  // A database nobody listens on: an error here must come from the arguments, before any connection.
  const unreachable = postgres("postgres://nobody:hunter2@127.0.0.1:1/none", { connect_timeout: 1 });
  afterAll(() => unreachable.end());

  it.each([
    ["startDate", ["yesterday", undefined]],
    ["startDate", [new Date("x"), undefined]],
    ["endDate", [undefined, "2026-02-30"]],
    ["endDate", ["2026-03-01", "03/08/2026"]],
  ] as const)("rejects a bad %s before querying", async (argument, [start, end]) => {
    for (const fn of [getSummaryStats, getStatsByModel, getStatsByDay, getStatsByUser, getStatsByNode]) {
      const error = await fn(start as never, end as never, { db: unreachable }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).argument).toBe(argument);
    }
  });

  it("rejects an unknown time zone naming options.timeZone", async () => {
    const error = await getStatsByDay(undefined, undefined, { db: unreachable, timeZone: "Mars/Olympus_Mons" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/^options\.timeZone: .*Mars\/Olympus_Mons/);
  });
});
