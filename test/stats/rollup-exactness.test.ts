// The stats read whole buckets from the rollup and only the edges from the raw
// rows; here every stats function is compared with a plain aggregation over the
// raw rows (support/reference-stats.ts, independent of src/stats) for many random ranges and
// zones, over seeded pseudo-random rows spanning DST switches, before and after
// the rows are updated, moved, deleted and replayed.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getSummaryStats } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { random, seedRows, type RangeArg, type SeedRow } from "./support/random-usage.js";
import { randomCases, reference, stats, type Case } from "./support/reference-stats.js";

const n = (value: unknown) => Number(value);

/** Every case: each stats function equals the reference. Reports the first case that differs, with its arguments. */
async function expectExact(db: Sql, cases: Case[]): Promise<void> {
  for (const c of cases) {
    const label = JSON.stringify({ zone: c.zone, start: c.start, end: c.end });
    expect(await stats(db, c), label).toEqual(await reference(db, c));
  }
}

/** The rollup, summed per key, equals the same grouping of the raw rows (keys left at zero by deletes ignored). */
async function expectRollupMatchesRows(db: Sql): Promise<void> {
  const difference = await db`
    WITH expected AS (
      SELECT g.grain, k.dimension,
        CASE g.grain WHEN 'five_minutes' THEN date_bin('5 minutes', u.created_at, '2000-01-01T00:00:00Z')
          WHEN 'half_hour' THEN date_bin('30 minutes', u.created_at, '2000-01-01T00:00:00Z')
          ELSE date_trunc(g.grain, u.created_at, 'UTC') END AS bucket, k.value IS NULL AS key_is_null,
        coalesce(k.value, '') AS key, count(*) AS calls, count(*) FILTER (WHERE u.success) AS successful_calls,
        sum(u.prompt_tokens) AS prompt_tokens, sum(u.completion_tokens) AS completion_tokens, sum(u.total_tokens) AS total_tokens,
        sum(u.cached_tokens) AS cached_tokens, coalesce(sum(u.cost_usd), 0) AS cost_usd, count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_calls,
        coalesce(sum(u.latency_ms), 0) AS latency_ms_sum, count(u.latency_ms) AS latency_calls,
        coalesce(sum(u.time_to_first_token_ms), 0) AS ttft_ms_sum, count(u.time_to_first_token_ms) AS ttft_calls
      FROM llm_tracker_usage u
      CROSS JOIN (VALUES ('five_minutes'), ('half_hour'), ('hour'), ('day')) AS g(grain)
      CROSS JOIN LATERAL (VALUES ('model', u.model), ('user', u.user_id), ('node', u.metadata->>'node_name'), ('total', '')) AS k(dimension, value)
      -- No half hours per user (drizzle/0009): any such row in the rollup is a difference.
      WHERE NOT (g.grain = 'half_hour' AND k.dimension = 'user')
      GROUP BY 1, 2, 3, 4, 5
    ), actual AS (
      -- A key may hold several appended partial sums until it is compacted.
      SELECT grain, dimension, bucket, key_is_null, key, sum(calls) AS calls, sum(successful_calls) AS successful_calls,
        sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens, sum(total_tokens) AS total_tokens,
        sum(cached_tokens) AS cached_tokens, sum(cost_usd) AS cost_usd, sum(unpriced_calls) AS unpriced_calls,
        sum(latency_ms_sum) AS latency_ms_sum, sum(latency_calls) AS latency_calls,
        sum(ttft_ms_sum) AS ttft_ms_sum, sum(ttft_calls) AS ttft_calls
      FROM llm_tracker_usage_rollup
      GROUP BY grain, dimension, bucket, key_is_null, key
      HAVING sum(calls) <> 0 OR sum(total_tokens) <> 0 OR sum(cost_usd) <> 0
    )
    SELECT count(*) AS differing FROM ((TABLE expected EXCEPT TABLE actual) UNION ALL (TABLE actual EXCEPT TABLE expected)) AS d`;
  expect(n(difference[0]!.differing)).toBe(0);
}

let database: TestDatabase;
let db: Sql;
const rand = random(20260308);
const rows = seedRows(rand, 6000);

const insert = (batch: SeedRow[]) => db`INSERT INTO llm_tracker_usage ${db(batch)} ON CONFLICT DO NOTHING`;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  // One partition per UTC day of the seeded span (the migration made only today's and the
  // week ahead): every statement below then reads and writes across partitions, and the
  // UPDATE that moves rows by hours moves some of them into another day's partition.
  await db`SELECT count(*) FROM llm_tracker_usage_create_partitions('2026-03-04', '2026-04-09')`;
  // Several statements, so the triggers fold many transition tables into shared buckets.
  for (let i = 0; i < rows.length; i += 1000) await insert(rows.slice(i, i + 1000));
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("stats over the rollup", () => {
  it("equal the plain aggregation over the raw rows for random ranges in six zones", async () => {
    await expectExact(db, randomCases(rand, 14));
  });

  it("equal it for whole days, a single hour, a sub-hour span, a reversed range and the whole table", async () => {
    const fixed: [string, RangeArg, RangeArg, string, string][] = [
      ["UTC", "2026-03-06", "2026-04-06", "2026-03-06T00:00:00Z", "2026-04-07T00:00:00Z"],
      ["Asia/Kathmandu", "2026-03-06", "2026-03-20", "2026-03-06T00:00:00+05:45", "2026-03-21T00:00:00+05:45"],
      ["Asia/Kolkata", "2026-03-10T18:00:00Z", "2026-03-10T19:00:00Z", "2026-03-10T18:00:00Z", "2026-03-10T19:00:00Z"],
      ["UTC", "2026-03-10T18:10:00Z", "2026-03-10T18:50:00Z", "2026-03-10T18:10:00Z", "2026-03-10T18:50:00Z"],
      ["Australia/Lord_Howe", "2026-04-07", "2026-03-07", "2026-04-07T00:00:00+10:30", "2026-03-08T00:00:00+11:00"],
    ];
    const cases: Case[] = fixed.map(([zone, start, end, lo, hi]) => ({
      zone,
      start,
      end,
      where: (sql) => sql`created_at >= ${lo}::timestamptz AND created_at < ${hi}::timestamptz`,
    }));
    cases.push({ zone: "Australia/Lord_Howe", start: undefined, end: undefined, where: (sql) => sql`true` });
    cases.push({ zone: "UTC", start: undefined, end: undefined, where: (sql) => sql`true` });
    await expectExact(db, cases);
  });

  it("stay exact after rows are re-priced, moved across buckets and re-keyed, then deleted", async () => {
    await db`UPDATE llm_tracker_usage SET cost_usd = (prompt_tokens * 0.0000025)::numeric(20, 10) WHERE model = 'gpt-4o'`;
    await db`UPDATE llm_tracker_usage SET cost_usd = NULL WHERE model = 'o3' AND success`;
    await db`UPDATE llm_tracker_usage SET created_at = created_at + interval '7 hours 13 minutes', model = 'moved'
      WHERE user_id = 'u2'`;
    await db`UPDATE llm_tracker_usage SET metadata = metadata || '{"node_name": "renamed"}', user_id = NULL WHERE model = 'gemini-2.5-pro'`;
    await db`UPDATE llm_tracker_usage SET latency_ms = NULL, time_to_first_token_ms = latency_ms WHERE model = 'gemini-2.5-flash' AND success`;
    await expectRollupMatchesRows(db);
    await expectExact(db, randomCases(rand, 4));

    await db`DELETE FROM llm_tracker_usage WHERE model = 'gpt-4o-mini' OR user_id = 'u3'`;
    await expectRollupMatchesRows(db);
    await expectExact(db, randomCases(rand, 4));
  });

  it("stay exact when the appended partial sums are compacted to one row per key", async () => {
    const [before] = await db`SELECT count(*)::int AS n FROM llm_tracker_usage_rollup`;
    const [compacted] = await db<{ removed: number }[]>`SELECT llm_tracker_usage_rollup_compact()::int AS removed`;
    const removed = compacted!.removed;
    expect(removed).toBeGreaterThan(0);
    const [after] = await db`SELECT count(*)::int AS n FROM llm_tracker_usage_rollup`;
    expect(after!.n).toBe(before!.n - removed);
    const [split] = await db`SELECT count(*)::int AS n FROM (
      SELECT 1 FROM llm_tracker_usage_rollup GROUP BY grain, dimension, bucket, key_is_null, key HAVING count(*) > 1) AS k`;
    expect(split!.n).toBe(0);
    await expectRollupMatchesRows(db);
    await expectExact(db, randomCases(rand, 4));
  });

  it("count a replayed insert once (ON CONFLICT DO NOTHING rows never reach the rollup)", async () => {
    const before = await getSummaryStats(undefined, undefined, { db });
    const survivors = await db<SeedRow[]>`SELECT id FROM llm_tracker_usage LIMIT 500`;
    // Not u2's rows: an UPDATE above changed their created_at, and the key is (created_at, id) —
    // a redelivered event repeats the created_at its producer stamped (docs/scaling.md).
    const replayed = rows.filter((row) => row.user_id !== "u2" && survivors.some((s) => s.id === row.id));
    expect(replayed.length).toBeGreaterThan(0);
    await insert(replayed);
    expect(await getSummaryStats(undefined, undefined, { db })).toEqual(before);
    await expectRollupMatchesRows(db);
  });
});
