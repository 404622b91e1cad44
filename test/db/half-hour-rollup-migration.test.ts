// Migration 0009 on a database that already holds rows (written, updated and
// deleted under the 0008 triggers, so the five-minute rows it sums from carry
// several partial sums per key and keys left at zero): the rollup gains the
// old rows' half-hour buckets per model, node and in total (none per user),
// exactly a plain aggregation of the raw rows, one compacted row per key; rows
// written afterwards are folded at the new grain by the new triggers; and the
// stats in half-hour zones, which now read those buckets (and a user's
// five-minute ones), stay exact.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getStatsOverTime } from "../../src/stats/index.js";
import { migrateUntil } from "../support/migrate-until.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Sql;

/** 300 rows, one every 4 minutes 47 seconds from 2026-05-01T00:00:00Z plus `from` steps, users u0–u6 and none. */
const insertRows = (from: number) => db`
  INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, success, metadata, created_at, latency_ms, cost_usd)
  SELECT gen_random_uuid(), CASE WHEN i % 8 = 7 THEN NULL ELSE 'u' || (i % 8) END, 'm' || (i % 3), i, 1, i + 1, i % 5 <> 0,
    CASE WHEN i % 4 = 3 THEN '{}'::jsonb ELSE jsonb_build_object('node_name', 'n' || (i % 2)) END,
    '2026-05-01T00:00:00Z'::timestamptz + i * interval '4 minutes 47 seconds', 100 + i, CASE WHEN i % 6 <> 0 THEN i * 0.000001 END
  FROM generate_series(${from}::int, ${from + 299}::int) AS i`;

/** The half-hour rows, one per key and bucket, against the same grouping of the raw rows (no user rows): the rows that differ. */
async function halfHourDifferences(): Promise<number> {
  const [row] = await db`
    WITH expected AS (
      SELECT k.dimension, date_bin('30 minutes', u.created_at, '2000-01-01T00:00:00Z') AS bucket, k.value IS NULL AS key_is_null,
        coalesce(k.value, '') AS key, count(*) AS calls, count(*) FILTER (WHERE u.success) AS successful_calls,
        sum(u.prompt_tokens) AS prompt_tokens, sum(u.completion_tokens) AS completion_tokens, sum(u.total_tokens) AS total_tokens,
        sum(u.cached_tokens) AS cached_tokens, sum(u.reasoning_tokens) AS reasoning_tokens, coalesce(sum(u.cost_usd), 0) AS cost_usd,
        count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_calls, coalesce(sum(u.latency_ms), 0) AS latency_ms_sum,
        count(u.latency_ms) AS latency_calls, coalesce(sum(u.time_to_first_token_ms), 0) AS ttft_ms_sum,
        count(u.time_to_first_token_ms) AS ttft_calls
      FROM llm_tracker_usage u
      CROSS JOIN LATERAL (VALUES ('model', u.model), ('node', u.metadata->>'node_name'), ('total', '')) AS k(dimension, value)
      GROUP BY 1, 2, 3, 4
    ), actual AS (
      SELECT dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens, total_tokens,
        cached_tokens, reasoning_tokens, cost_usd, unpriced_calls, latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
      FROM llm_tracker_usage_rollup WHERE grain = 'half_hour'
    )
    SELECT count(*)::int AS differing FROM ((TABLE expected EXCEPT ALL TABLE actual) UNION ALL (TABLE actual EXCEPT ALL TABLE expected)) AS d`;
  return row!.differing as number;
}

/**
 * getStatsOverTime (hourly by model, from half-hour rows, and by user, from five-minute rows; daily) and getStatsByDay in
 * Kolkata equal the raw rows' hours and days there.
 */
async function expectStatsExact(): Promise<void> {
  const [lo, hi] = ["2026-05-01T03:07:41", "2026-05-02T10:52:05.5"];
  const where = db`created_at >= ${lo}::timestamp AT TIME ZONE 'Asia/Kolkata' AND created_at < ${hi}::timestamp AT TIME ZONE 'Asia/Kolkata'`;
  const cell = (start: unknown, key: unknown, calls: unknown, tokens: unknown) => `${String(start)} ${String(key)}: ${String(calls)} calls, ${String(tokens)} tokens`;
  for (const [groupBy, column] of [["model", "model"], ["user", "user_id"]] as const) {
    const hourly = await db`SELECT to_char(date_trunc('hour', created_at AT TIME ZONE 'Asia/Kolkata'), 'YYYY-MM-DD"T"HH24') || ':00:00+05:30' AS bucket_start,
      ${db(column)} AS key, count(*)::int AS calls, sum(total_tokens)::int AS tokens FROM llm_tracker_usage WHERE ${where} GROUP BY 1, 2`;
    const overTime = await getStatsOverTime(lo, hi, { db, timeZone: "Asia/Kolkata", bucket: "hour", groupBy });
    expect(overTime.filter((e) => e.total_calls > 0).map((e) => cell(e.bucket_start, groupBy === "model" ? e.model : e.user_id, e.total_calls, e.total_tokens)).sort(), groupBy)
      .toEqual(hourly.map((r) => cell(r.bucket_start, r.key, r.calls, r.tokens)).sort());
  }
  const daily = await db`SELECT to_char((created_at AT TIME ZONE 'Asia/Kolkata')::date, 'YYYY-MM-DD') AS date, count(*)::int AS calls,
    sum(total_tokens)::int AS tokens FROM llm_tracker_usage WHERE ${where} GROUP BY 1 ORDER BY 1`;
  expect((await getStatsByDay(lo, hi, { db, timeZone: "Asia/Kolkata" })).map((d) => ({ date: d.date, calls: d.total_calls, tokens: d.total_tokens }))).toEqual(daily);
  expect((await getStatsOverTime(lo, hi, { db, timeZone: "Asia/Kolkata", bucket: "day" })).map((d) => [d.total_calls, d.total_tokens]))
    .toEqual(daily.map((d) => [d.calls, d.tokens]));
}

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateUntil(database.url, "0008_serialize_rollup_compaction");
  db = postgres(database.url, { onnotice: () => {}, fetch_types: false });
  await db`SELECT count(*) FROM llm_tracker_usage_create_partitions('2026-04-30', '2026-05-04')`;
  await insertRows(0);
  await db`SELECT llm_tracker_usage_rollup_compact()`;
  await insertRows(100);
  // Moved across five-minute and half-hour buckets, re-keyed, then some deleted: partial sums of
  // opposite signs, and keys whose five-minute sums are all zero.
  await db`UPDATE llm_tracker_usage SET created_at = created_at + interval '13 minutes', model = 'moved' WHERE user_id = 'u2'`;
  await db`DELETE FROM llm_tracker_usage WHERE user_id = 'u3' OR (model = 'm1' AND total_tokens % 7 = 0)`;
  await runMigrations(database.url);
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("migration 0009 (half-hour grain)", () => {
  it("adds the existing rows' half-hour buckets per model, node and in total, exactly the raw rows' sums, one compacted row per key", async () => {
    const dimensions = await db`SELECT DISTINCT dimension FROM llm_tracker_usage_rollup WHERE grain = 'half_hour' ORDER BY 1`;
    expect(dimensions.map((row) => row.dimension)).toEqual(["model", "node", "total"]);
    const [counts] = await db`SELECT count(*)::int AS rows, count(*) FILTER (WHERE NOT compacted)::int AS uncompacted,
      count(DISTINCT (dimension, bucket, key_is_null, key))::int AS keys FROM llm_tracker_usage_rollup WHERE grain = 'half_hour'`;
    expect(counts!.rows).toBeGreaterThan(0);
    expect(counts).toEqual({ rows: counts!.rows, uncompacted: 0, keys: counts!.rows });
    expect(await halfHourDifferences()).toBe(0);
  });

  it("folds later writes into the half-hour buckets, and the compaction merges them", async () => {
    await expectStatsExact();
    await insertRows(250); // new ids, times overlapping the old ones
    await db`UPDATE llm_tracker_usage SET created_at = created_at - interval '31 minutes' WHERE user_id = 'u4'`;
    await db`DELETE FROM llm_tracker_usage WHERE user_id = 'u5' AND total_tokens % 3 = 0`;
    expect(await halfHourDifferences()).toBeGreaterThan(0); // appended partial sums, not yet one row per key
    await expectStatsExact();
    await db`SELECT llm_tracker_usage_rollup_compact()`;
    expect(await halfHourDifferences()).toBe(0);
    await expectStatsExact();
  });
});
