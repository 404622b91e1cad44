// The stats read whole buckets from the rollup and only the edges from the raw
// rows; here every stats function is compared with a plain aggregation over the
// raw rows (written below, independent of src/stats) for many random ranges and
// zones, over seeded pseudo-random rows spanning DST switches, before and after
// the rows are updated, moved, deleted and replayed.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

/** mulberry32: a small deterministic generator, so a failure replays exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"];
const MODELS = ["gpt-4o", "gpt-4o-mini", "gemini-2.5-flash", "gemini-2.5-pro", "o3"];
const USERS = ["u1", "u2", "u3", "u4", "u5", "", null];
const NODES = ["interpret", "summarize", "plan", "", null];

// 2026-03-05 .. 2026-04-08 (UTC): New York springs forward on March 8, Lord Howe
// falls back half an hour on April 5.
const FIRST_US = Date.UTC(2026, 2, 5) * 1000;
const SPAN_US = 34 * 86_400_000_000;
const HOUR_US = 3_600_000_000;

/** An instant in whole microseconds as ISO text Postgres reads exactly. */
function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${String(us % 1_000_000).padStart(6, "0")}Z`);
}

interface SeedRow {
  id: string;
  user_id: string | null;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  success: boolean;
  error: string | null;
  metadata: Record<string, string>;
  created_at: string;
  cost_usd: string | null;
  latency_ms: number | null;
  streamed: boolean;
  time_to_first_token_ms: number | null;
}

function seedRows(rand: () => number, count: number): SeedRow[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const rows: SeedRow[] = [];
  for (let i = 0; i < count; i += 1) {
    // A third of the rows sit within a few microseconds of an hour boundary (UTC
    // hours, and the :15 / :30 / :45 marks where other zones' days start).
    let us = FIRST_US + Math.floor(rand() * SPAN_US);
    if (rand() < 0.33) us = us - (us % (HOUR_US / 4)) + pick([-1, 0, 1, 2]);
    const prompt = Math.floor(rand() * 3000);
    const completion = Math.floor(rand() * 800);
    const success = rand() > 0.15;
    const node = pick(NODES);
    rows.push({
      id: crypto.randomUUID(),
      user_id: pick(USERS),
      model: pick(MODELS),
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_tokens: Math.floor(prompt / 3),
      reasoning_tokens: 0,
      success,
      error: success ? null : "provider said no",
      metadata: node === null ? { source_type: "task" } : { node_name: node },
      created_at: isoMicros(us),
      cost_usd: rand() < 0.2 ? null : (rand() / 10).toFixed(10),
      ...timing(rand),
    });
  }
  return rows;
}

/** Latency (sometimes missing, as in rows from elsewhere) and, for a third of the calls, a stream's time to first token. */
function timing(rand: () => number): Pick<SeedRow, "latency_ms" | "streamed" | "time_to_first_token_ms"> {
  const latency = rand() < 0.1 ? null : Math.floor(rand() * 20_000);
  const streamed = rand() < 0.33;
  return { latency_ms: latency, streamed, time_to_first_token_ms: streamed && latency !== null ? Math.floor(latency * rand()) : null };
}

type Side = "start" | "end";
type RangeArg = Date | string | undefined;

/** A random bound in one of the forms the stats accept, and the instant a reader of the contract expects. */
function randomBound(rand: () => number, side: Side): { arg: RangeArg; sql: (db: Sql, zone: string) => ReturnType<Sql> } {
  const us = FIRST_US - 86_400_000_000 + Math.floor(rand() * (SPAN_US + 2 * 86_400_000_000));
  const iso = isoMicros(us);
  const kind = rand();
  if (kind < 0.1) return { arg: undefined, sql: (db) => (side === "start" ? db`'-infinity'::timestamptz` : db`'infinity'::timestamptz`) };
  if (kind < 0.4) {
    const date = iso.slice(0, 10);
    // A date alone is that day's local midnight as a start, the next day's as an end.
    return {
      arg: date,
      sql: (db, zone) => (side === "start" ? db`(${date}::date::timestamp AT TIME ZONE ${zone})` : db`((${date}::date + 1)::timestamp AT TIME ZONE ${zone})`),
    };
  }
  if (kind < 0.65) {
    // Wall-clock time with odd minutes and seconds, sometimes a fraction.
    const local = rand() < 0.5 ? iso.slice(0, 19) : iso.slice(0, 23);
    return { arg: local, sql: (db, zone) => db`(${local}::timestamp AT TIME ZONE ${zone})` };
  }
  if (kind < 0.85) {
    const offset = ["Z", "+08:00", "-04:30", "+05:45", "+0530"][Math.floor(rand() * 5)]!;
    const text = `${iso.slice(0, 19)}${offset}`;
    return { arg: text, sql: (db) => db`${text}::timestamptz` };
  }
  const date = new Date(Math.floor(us / 1000));
  return { arg: date, sql: (db) => db`${date.toISOString()}::timestamptz` };
}

interface Case {
  zone: string;
  start: RangeArg;
  end: RangeArg;
  where: (db: Sql) => ReturnType<Sql>;
}

function randomCases(rand: () => number, perZone: number): Case[] {
  const cases: Case[] = [];
  for (const zone of ZONES) {
    for (let i = 0; i < perZone; i += 1) {
      const start = randomBound(rand, "start");
      const end = randomBound(rand, "end");
      cases.push({ zone, start: start.arg, end: end.arg, where: (db) => db`created_at >= ${start.sql(db, zone)} AND created_at < ${end.sql(db, zone)}` });
    }
  }
  return cases;
}

const n = (value: unknown) => Number(value);

/** The plain aggregation over the raw rows, shaped like the stats' results. */
async function reference(db: Sql, c: Case) {
  const where = c.where(db);
  const totals = db`count(*) AS total_calls, coalesce(sum(prompt_tokens), 0) AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0) AS total_completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
    round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd,
    coalesce(round(avg(latency_ms), 3), 0)::float8 AS avg_latency_ms,
    coalesce(round(avg(time_to_first_token_ms), 3), 0)::float8 AS avg_time_to_first_token_ms`;
  const grouped = (row: Record<string, unknown>) => ({
    total_calls: n(row.total_calls),
    total_prompt_tokens: n(row.total_prompt_tokens),
    total_completion_tokens: n(row.total_completion_tokens),
    total_tokens: n(row.total_tokens),
    total_cost_usd: n(row.total_cost_usd),
    avg_latency_ms: n(row.avg_latency_ms),
    avg_time_to_first_token_ms: n(row.avg_time_to_first_token_ms),
  });
  const [summary] = await db`SELECT ${totals}, count(*) FILTER (WHERE success) AS successful_calls,
    count(*) FILTER (WHERE NOT success) AS failed_calls, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls
    FROM llm_tracker_usage WHERE ${where}`;
  const byModel = await db`SELECT model, ${totals} FROM llm_tracker_usage WHERE ${where}
    GROUP BY model ORDER BY total_tokens DESC, model COLLATE "C"`;
  const byUser = await db`SELECT user_id, ${totals} FROM llm_tracker_usage WHERE ${where}
    GROUP BY user_id ORDER BY total_tokens DESC, user_id COLLATE "C" NULLS LAST`;
  const byNode = await db`SELECT node_name, ${totals}
    FROM (SELECT metadata->>'node_name' AS node_name, * FROM llm_tracker_usage WHERE ${where}) AS with_node
    GROUP BY node_name ORDER BY total_tokens DESC, node_name COLLATE "C" NULLS LAST`;
  const byDay = await db`SELECT to_char((created_at AT TIME ZONE ${c.zone})::date, 'YYYY-MM-DD') AS date, count(*) AS total_calls,
    sum(total_tokens) AS total_tokens, round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd
    FROM llm_tracker_usage WHERE ${where} GROUP BY 1 ORDER BY 1`;
  return {
    summary: {
      ...grouped(summary!),
      successful_calls: n(summary!.successful_calls),
      failed_calls: n(summary!.failed_calls),
      unpriced_calls: n(summary!.unpriced_calls),
    },
    byModel: byModel.map((row) => ({ model: row.model, ...grouped(row) })),
    byUser: byUser.map((row) => ({ user_id: row.user_id, ...grouped(row) })),
    byNode: byNode.map((row) => ({ node_name: row.node_name, ...grouped(row) })),
    byDay: byDay.map((row) => ({ date: row.date, total_calls: n(row.total_calls), total_tokens: n(row.total_tokens), total_cost_usd: n(row.total_cost_usd) })),
  };
}

async function stats(db: Sql, c: Case) {
  const options = { db, timeZone: c.zone };
  return {
    summary: await getSummaryStats(c.start, c.end, options),
    byModel: await getStatsByModel(c.start, c.end, options),
    byUser: await getStatsByUser(c.start, c.end, options),
    byNode: await getStatsByNode(c.start, c.end, options),
    byDay: await getStatsByDay(c.start, c.end, options),
  };
}

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
      SELECT g.grain, k.dimension, date_trunc(g.grain, u.created_at, 'UTC') AS bucket, k.value IS NULL AS key_is_null,
        coalesce(k.value, '') AS key, count(*) AS calls, count(*) FILTER (WHERE u.success) AS successful_calls,
        sum(u.prompt_tokens) AS prompt_tokens, sum(u.completion_tokens) AS completion_tokens, sum(u.total_tokens) AS total_tokens,
        sum(u.cached_tokens) AS cached_tokens, coalesce(sum(u.cost_usd), 0) AS cost_usd, count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_calls,
        coalesce(sum(u.latency_ms), 0) AS latency_ms_sum, count(u.latency_ms) AS latency_calls,
        coalesce(sum(u.time_to_first_token_ms), 0) AS ttft_ms_sum, count(u.time_to_first_token_ms) AS ttft_calls
      FROM llm_tracker_usage u
      CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
      CROSS JOIN LATERAL (VALUES ('model', u.model), ('user', u.user_id), ('node', u.metadata->>'node_name')) AS k(dimension, value)
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

const insert = (batch: SeedRow[]) => db`INSERT INTO llm_tracker_usage ${db(batch)} ON CONFLICT (id) DO NOTHING`;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
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
    const replayed = rows.filter((row) => survivors.some((s) => s.id === row.id));
    expect(replayed.length).toBeGreaterThan(0);
    await insert(replayed);
    expect(await getSummaryStats(undefined, undefined, { db })).toEqual(before);
    await expectRollupMatchesRows(db);
  });
});
