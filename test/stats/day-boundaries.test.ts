// Rows placed one instant either side of midnight in UTC, Asia/Shanghai (+08)
// and America/New_York, whose March 8 2026 is 23 hours long (EST -5 → EDT -4
// at 02:00 local), so a fixed offset would put H on the wrong day.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getSummaryStats } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

// Token counts are powers of two, so every sum names exactly the rows in it.
const ROWS = {
  A: ["2026-03-07T23:59:59.999Z", 1], // UTC Mar 7 | Shanghai Mar 8 07:59 | NY Mar 7 18:59
  B: ["2026-03-08T00:00:00.000Z", 2], // UTC Mar 8 | Shanghai Mar 8 08:00 | NY Mar 7 19:00
  C: ["2026-03-07T15:59:59.000Z", 4], // UTC Mar 7 | Shanghai Mar 7 23:59:59 | NY Mar 7
  D: ["2026-03-07T16:00:00.000Z", 8], // UTC Mar 7 | Shanghai Mar 8 00:00 | NY Mar 7
  E: ["2026-03-08T04:59:59.000Z", 16], // UTC Mar 8 | Shanghai Mar 8 | NY Mar 7 23:59:59 EST
  F: ["2026-03-08T05:00:00.000Z", 32], // UTC Mar 8 | Shanghai Mar 8 | NY Mar 8 00:00 EST
  G: ["2026-03-09T03:59:59.000Z", 64], // UTC Mar 9 | Shanghai Mar 9 | NY Mar 8 23:59:59 EDT
  H: ["2026-03-09T04:00:00.000Z", 128], // UTC Mar 9 | Shanghai Mar 9 | NY Mar 9 00:00 EDT
} as const;

let database: TestDatabase;
let db: Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  await db`INSERT INTO llm_tracker_usage ${db(
    Object.values(ROWS).map(([at, tokens]) => ({
      id: crypto.randomUUID(),
      user_id: "u1",
      model: "gpt-4o",
      prompt_tokens: tokens,
      completion_tokens: 0,
      total_tokens: tokens,
      cached_tokens: 0,
      reasoning_tokens: 0,
      success: true,
      error: null,
      metadata: { node_name: "n" },
      created_at: at,
    })),
  )}`;
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

const tokens = async (start?: string | Date, end?: string | Date, timeZone?: string) =>
  (await getSummaryStats(start, end, { db, timeZone })).total_tokens;

describe("getStatsByDay", () => {
  it("groups by UTC days by default", async () => {
    expect(await getStatsByDay(undefined, undefined, { db })).toEqual([
      { date: "2026-03-07", total_calls: 3, total_tokens: 1 + 4 + 8, total_cost_usd: 0 },
      { date: "2026-03-08", total_calls: 3, total_tokens: 2 + 16 + 32, total_cost_usd: 0 },
      { date: "2026-03-09", total_calls: 2, total_tokens: 64 + 128, total_cost_usd: 0 },
    ]);
  });

  it("groups by Shanghai days", async () => {
    expect(await getStatsByDay(undefined, undefined, { db, timeZone: "Asia/Shanghai" })).toEqual([
      { date: "2026-03-07", total_calls: 1, total_tokens: 4, total_cost_usd: 0 },
      { date: "2026-03-08", total_calls: 5, total_tokens: 1 + 2 + 8 + 16 + 32, total_cost_usd: 0 },
      { date: "2026-03-09", total_calls: 2, total_tokens: 64 + 128, total_cost_usd: 0 },
    ]);
  });

  it("groups by New York days across the DST switch", async () => {
    expect(await getStatsByDay(undefined, undefined, { db, timeZone: "America/New_York" })).toEqual([
      { date: "2026-03-07", total_calls: 5, total_tokens: 1 + 2 + 4 + 8 + 16, total_cost_usd: 0 },
      { date: "2026-03-08", total_calls: 2, total_tokens: 32 + 64, total_cost_usd: 0 },
      { date: "2026-03-09", total_calls: 1, total_tokens: 128, total_cost_usd: 0 },
    ]);
  });

  it("keeps only the days of the range, each day in the same zone as the bounds", async () => {
    expect(await getStatsByDay("2026-03-08", "2026-03-08", { db, timeZone: "America/New_York" })).toEqual([
      { date: "2026-03-08", total_calls: 2, total_tokens: 96, total_cost_usd: 0 },
    ]);
  });
});

describe("date-only bounds", () => {
  it("covers the whole day when the same date is start and end, in each zone", async () => {
    expect(await tokens("2026-03-08", "2026-03-08")).toBe(2 + 16 + 32);
    expect(await tokens("2026-03-08", "2026-03-08", "Asia/Shanghai")).toBe(1 + 2 + 8 + 16 + 32);
    expect(await tokens("2026-03-08", "2026-03-08", "America/New_York")).toBe(32 + 64);
  });

  it("starts a New York day after the DST switch at its EDT midnight (04:00Z, not 05:00Z)", async () => {
    expect(await tokens("2026-03-09", undefined, "America/New_York")).toBe(128);
  });

  it("includes the whole end day and nothing after it", async () => {
    expect(await tokens(undefined, "2026-03-07")).toBe(1 + 4 + 8);
    expect(await tokens(undefined, "2026-03-07", "Asia/Shanghai")).toBe(4);
    expect(await tokens(undefined, "2026-03-07", "America/New_York")).toBe(1 + 2 + 4 + 8 + 16);
  });
});

describe("date-time bounds", () => {
  it("excludes a row exactly at a date-time end and includes one exactly at the start", async () => {
    expect(await tokens(undefined, "2026-03-08T00:00:00Z")).toBe(1 + 4 + 8);
    expect(await tokens("2026-03-08T00:00:00Z", "2026-03-08T00:00:00.001Z")).toBe(2);
  });

  it("honours the offset of an ISO string whatever the time zone option", async () => {
    // +08:00 midnight is 2026-03-07T16:00Z: every row but C.
    expect(await tokens("2026-03-08T00:00:00+08:00")).toBe(255 - 4);
    expect(await tokens("2026-03-08T00:00:00+08:00", undefined, "America/New_York")).toBe(255 - 4);
    expect(await tokens("2026-03-07T23:59:59-05:00", "2026-03-08T00:00:00-05:00")).toBe(16);
  });

  it("takes Date objects as exact instants", async () => {
    expect(await tokens(new Date("2026-03-08T05:00:00Z"))).toBe(32 + 64 + 128);
    expect(await tokens(new Date("2026-03-07T16:00:00Z"), new Date("2026-03-08T00:00:00Z"), "Asia/Shanghai")).toBe(1 + 8);
  });

  it("reads a date-time without offset as wall-clock time in the time zone", async () => {
    // 03:00 EDT on March 8 is 07:00Z; Shanghai midnight March 8 is 16:00Z the day before.
    expect(await tokens("2026-03-08T03:00:00", undefined, "America/New_York")).toBe(64 + 128);
    expect(await tokens(undefined, "2026-03-08T00:00:00", "Asia/Shanghai")).toBe(4);
  });

  it("returns nothing for a reversed range", async () => {
    expect(await tokens("2026-03-09", "2026-03-07")).toBe(0);
  });
});

describe("getStatsByDay inside the caller's transaction", () => {
  it("gives the same days when options.db is a transaction", async () => {
    const outside = await getStatsByDay(undefined, undefined, { db, timeZone: "Asia/Shanghai" });
    const inside = await db.begin((tx) => getStatsByDay(undefined, undefined, { db: tx as never, timeZone: "Asia/Shanghai" }));
    expect(inside).toEqual(outside);
    expect(inside.length).toBeGreaterThan(0);
  });
});
