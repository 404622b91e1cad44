// Migration 0006 on a database that already holds rows: the rollup gains the
// old rows' five-minute buckets and `total` rows (uncompacted, like any
// appended sum), so stats over edges at odd seconds, in a zone at a half-hour
// offset, are exact before and after the first compaction, and rows written
// afterwards are folded at the new grain by the new triggers.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getStatsByUser, getSummaryStats } from "../../src/stats/index.js";
import { migrateUntil } from "../support/migrate-until.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Sql;

/** 300 rows, one every 7 minutes 13 seconds from 2026-05-01T00:00:00Z, users u0–u6. */
const insertRows = (from: number) => db`
  INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, success, metadata, created_at, latency_ms)
  SELECT gen_random_uuid(), 'u' || (i % 7), 'm' || (i % 3), i, 1, i + 1, i % 5 <> 0, jsonb_build_object('node_name', 'n' || (i % 2)),
    '2026-05-01T00:00:00Z'::timestamptz + i * interval '7 minutes 13 seconds', 100 + i
  FROM generate_series(${from}::int, ${from + 299}::int) AS i`;

async function expectExact(): Promise<void> {
  const [lo, hi] = ["2026-05-01T03:07:41", "2026-05-02T10:52:05"];
  const where = db`created_at >= ${lo}::timestamp AT TIME ZONE 'Asia/Kolkata' AND created_at < ${hi}::timestamp AT TIME ZONE 'Asia/Kolkata'`;
  const [raw] = await db`SELECT count(*)::int AS calls, sum(total_tokens)::int AS tokens FROM llm_tracker_usage WHERE ${where}`;
  const summary = await getSummaryStats(lo, hi, { db, timeZone: "Asia/Kolkata" });
  expect([summary.total_calls, summary.total_tokens]).toEqual([raw!.calls, raw!.tokens]);
  const days = await db`SELECT to_char((created_at AT TIME ZONE 'Asia/Kolkata')::date, 'YYYY-MM-DD') AS date, count(*)::int AS calls
    FROM llm_tracker_usage WHERE ${where} GROUP BY 1 ORDER BY 1`;
  expect((await getStatsByDay(lo, hi, { db, timeZone: "Asia/Kolkata" })).map((d) => ({ date: d.date, calls: d.total_calls }))).toEqual(days);
  const users = await db`SELECT user_id, sum(total_tokens)::int AS tokens FROM llm_tracker_usage WHERE ${where}
    GROUP BY 1 ORDER BY 2 DESC, user_id COLLATE "C" LIMIT 3`;
  expect((await getStatsByUser(lo, hi, { db, timeZone: "Asia/Kolkata", limit: 3 })).map((u) => ({ user_id: u.user_id, tokens: u.total_tokens }))).toEqual(users);
}

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateUntil(database.url, "0005_stream_columns");
  db = postgres(database.url, { onnotice: () => {}, fetch_types: false });
  await insertRows(0);
  await runMigrations(database.url);
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("migration 0006 (five-minute grain, total dimension, compacted flag)", () => {
  it("adds the existing rows' five-minute buckets and totals to the rollup", async () => {
    const grains = await db`SELECT grain, dimension, sum(calls)::int AS calls FROM llm_tracker_usage_rollup
      WHERE grain = 'five_minutes' OR dimension = 'total' GROUP BY 1, 2 ORDER BY 1, 2`;
    expect(grains).toEqual([
      { grain: "day", dimension: "total", calls: 300 },
      { grain: "five_minutes", dimension: "model", calls: 300 },
      { grain: "five_minutes", dimension: "node", calls: 300 },
      { grain: "five_minutes", dimension: "total", calls: 300 },
      { grain: "five_minutes", dimension: "user", calls: 300 },
      // Migration 0009 (run here too: the stats read its half-hours) sums these from the five-minute rows.
      { grain: "half_hour", dimension: "total", calls: 300 },
      { grain: "hour", dimension: "total", calls: 300 },
    ]);
  });

  it("keeps the stats exact over odd-second edges in Kolkata, before and after the first compaction and new writes", async () => {
    await expectExact();
    await db`SELECT llm_tracker_usage_rollup_compact()`;
    const [left] = await db`SELECT count(*)::int AS n FROM llm_tracker_usage_rollup WHERE NOT compacted`;
    expect(left!.n).toBe(0);
    await expectExact();
    await insertRows(150); // half of them replays of nothing: new ids, overlapping times
    await expectExact();
    await db`SELECT llm_tracker_usage_rollup_compact()`;
    await expectExact();
  });
});
