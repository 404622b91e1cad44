// Migration 0005 on a database that already holds rows: the new columns take
// their defaults, and the rollup gains the old rows' latency sums, so the
// average latency of a range is the same whether it is read from whole
// buckets or from raw rows.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByModel, getSummaryStats } from "../../src/stats/index.js";
import { migrateUntil } from "../support/migrate-until.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Sql;

// Written by a release before 0005: no streamed / time_to_first_token_ms / operation.
const OLD_ROWS = [
  { model: "gpt-4o", latency_ms: 1000, created_at: "2026-05-01T10:15:00Z" },
  { model: "gpt-4o", latency_ms: 3000, created_at: "2026-05-01T11:45:00Z" },
  { model: "gemini-2.5-flash", latency_ms: null, created_at: "2026-05-01T12:00:00Z" },
  { model: "gemini-2.5-flash", latency_ms: 500, created_at: "2026-05-02T00:30:00Z" },
];

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateUntil(database.url, "0004_rollup_append_only_triggers");
  db = postgres(database.url, { onnotice: () => {} });
  await db`INSERT INTO llm_tracker_usage ${db(
    OLD_ROWS.map((row) => ({ id: crypto.randomUUID(), total_tokens: 10, prompt_tokens: 10, ...row })),
  )}`;
  await runMigrations(database.url);
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("migration 0005 (streamed, time_to_first_token_ms, operation)", () => {
  it("gives the existing rows the defaults: not streamed, no time to first token, a chat", async () => {
    const rows = await db`SELECT DISTINCT streamed, time_to_first_token_ms, operation FROM llm_tracker_usage`;
    expect(rows).toEqual([{ streamed: false, time_to_first_token_ms: null, operation: "chat" }]);
  });

  it("adds the existing rows' latency to the rollup: whole-bucket and raw-edge averages agree", async () => {
    // Whole UTC days: read from the rollup only.
    const whole = await getSummaryStats("2026-05-01", "2026-05-02", { db });
    expect(whole).toMatchObject({ total_calls: 4, avg_latency_ms: 1500, avg_time_to_first_token_ms: 0 });
    // Edges at odd seconds: the same rows partly from raw rows.
    const edges = await getStatsByModel("2026-05-01T10:14:59Z", "2026-05-02T00:30:01Z", { db });
    expect(edges.map((row) => [row.model, row.avg_latency_ms])).toEqual([
      ["gemini-2.5-flash", 500],
      ["gpt-4o", 2000],
    ]);
    expect(await getStatsByModel("2026-05-01", "2026-05-02", { db })).toEqual(edges);
  });
});
