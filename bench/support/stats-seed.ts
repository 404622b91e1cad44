// Synthetic usage rows for the stats benchmarks, written as the worker writes
// them: in created_at order (so a time range is a contiguous run of the heap),
// with 100,000 distinct users whose traffic is heavy-tailed, as real users' is.
import type { Sql } from "postgres";

/** Rows per seeding statement: each one fires the rollup trigger once over its rows. */
export const SEED_CHUNK = 1_000_000;
/** The seeded rows spread evenly over SPAN_DAYS from here (UTC). */
export const FIRST_DAY = "2026-01-01T00:00:00Z";
export const SPAN_DAYS = 35;
export const USERS = 100_000;

/**
 * Inserts rows [from, to) of a table of `total` rows, INSERT … SELECT
 * generate_series in chunks, row g at FIRST_DAY + g × (SPAN_DAYS / total) plus
 * a sub-step jitter (so times keep their order and land on arbitrary
 * microseconds): 20 models, 10 nodes (5% none), 2% failed, 4% unpriced, and
 * user u{0 … 99,999} drawn as ⌊100,000 · r³⌋ for a uniform r (1% none): the
 * first user makes ~2% of the calls, the last ones a few each, every one of
 * the 100,000 appears at 1M rows and up.
 */
export async function seedTimeOrdered(sql: Sql, from: number, to: number, total: number): Promise<void> {
  const stepMicros = Math.floor((SPAN_DAYS * 86_400_000_000) / total);
  for (let start = from; start < to; start += SEED_CHUNK) {
    const end = Math.min(to, start + SEED_CHUNK) - 1;
    await sql`
      INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
        reasoning_tokens, success, error, metadata, created_at, provider, cost_usd, latency_ms)
      SELECT gen_random_uuid(),
        CASE WHEN g % 100 = 7 THEN NULL ELSE 'u' || floor(${USERS}::int * r * r * r)::int END,
        'model-' || lpad((g * 7 % 20)::text, 2, '0'),
        p, c, p + c, p / 4, 0,
        g % 50 <> 3,
        CASE WHEN g % 50 = 3 THEN 'provider said no' END,
        CASE WHEN g % 20 = 5 THEN '{"source_type": "task"}'::jsonb ELSE jsonb_build_object('node_name', 'node-' || (g * 3 % 10)) END,
        ${FIRST_DAY}::timestamptz + (g * ${stepMicros}::int8 + (g * 7919) % ${stepMicros}::int8) * interval '1 microsecond',
        'openai',
        CASE WHEN g % 25 = 11 THEN NULL ELSE (p * 0.0000025 + c * 0.00001)::numeric(20, 10) END,
        (g * 37 % 9000)::int + 200
      FROM generate_series(${start}::int8, ${end}::int8) AS g
      CROSS JOIN LATERAL (
        SELECT (g * 13 % 4000)::int AS p, (g * 17 % 1000)::int AS c, (hashint8(g) & 2147483647) / 2147483648.0 AS r
      ) AS drawn`;
  }
}

/**
 * Seeds `total` rows as seedTimeOrdered does, but with the rollup triggers off
 * and the rollup then built in one statement: the same fold the triggers and
 * the compaction make (one compacted row per bucket and key), minutes instead
 * of the best part of an hour at 10M rows on a small machine. The benchmark
 * still checks every stats answer against the raw rows.
 */
export async function seedWithRollupBuilt(sql: Sql, total: number): Promise<void> {
  await sql.begin(async (tx) => {
    // Bulk-load style: no triggers, no indexes while the rows go in (the indexes are built afterwards, as defined).
    const indexes = await tx<{ indexdef: string; indexname: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'llm_tracker_usage' AND indexname <> 'llm_tracker_usage_pkey'`;
    const [primaryKey] = await tx<{ definition: string }[]>`
      SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE conrelid = 'llm_tracker_usage'::regclass AND conname = 'llm_tracker_usage_pkey'`;
    // The table is partitioned by UTC day (migration 0007): every seeded day gets
    // its partition first, as the worker's upkeep would have made it.
    const lastDay = new Date(Date.parse(FIRST_DAY) + SPAN_DAYS * 86_400_000).toISOString().slice(0, 10);
    await tx`SELECT count(*) FROM llm_tracker_usage_create_partitions(${FIRST_DAY.slice(0, 10)}::date, ${lastDay}::date)`;
    for (const index of indexes) await tx.unsafe(`DROP INDEX "${index.indexname}"`);
    await tx`ALTER TABLE llm_tracker_usage DROP CONSTRAINT llm_tracker_usage_pkey`;
    await tx`ALTER TABLE llm_tracker_usage DISABLE TRIGGER USER`;
    await seedTimeOrdered(tx as unknown as Sql, 0, total, total);
    await tx`ALTER TABLE llm_tracker_usage ENABLE TRIGGER USER`;
    await tx`SET LOCAL maintenance_work_mem = '512MB'`;
    await tx.unsafe(`ALTER TABLE llm_tracker_usage ADD CONSTRAINT llm_tracker_usage_pkey ${primaryKey!.definition}`);
    for (const index of indexes) await tx.unsafe(index.indexdef);
    await tx`SET LOCAL work_mem = '256MB'`;
    // The groupings of the triggers' fold (drizzle/0009): half hours per model, node and total, not per user.
    await tx`
      INSERT INTO llm_tracker_usage_rollup (
        grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
        total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
        latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls, compacted
      )
      SELECT CASE WHEN grouping(g.minutes) = 0 THEN 'five_minutes' WHEN grouping(g.half_hour) = 0 THEN 'half_hour'
          WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
        CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' WHEN grouping(g.node) = 0 THEN 'node' ELSE 'total' END,
        coalesce(g.minutes, g.half_hour, g.hour, g.day),
        CASE WHEN grouping(g.model) = 0 THEN false WHEN grouping(g.user_id) = 0 THEN g.user_id IS NULL WHEN grouping(g.node) = 0 THEN g.node IS NULL ELSE false END,
        CASE WHEN grouping(g.model) = 0 THEN g.model WHEN grouping(g.user_id) = 0 THEN coalesce(g.user_id, '') WHEN grouping(g.node) = 0 THEN coalesce(g.node, '') ELSE '' END,
        count(*), count(*) FILTER (WHERE g.success), sum(g.prompt_tokens), sum(g.completion_tokens), sum(g.total_tokens),
        sum(g.cached_tokens), sum(g.reasoning_tokens), coalesce(sum(g.cost_usd), 0), count(*) FILTER (WHERE g.cost_usd IS NULL),
        coalesce(sum(g.latency_ms), 0), count(g.latency_ms), coalesce(sum(g.time_to_first_token_ms), 0), count(g.time_to_first_token_ms), true
      FROM (
        SELECT date_bin('5 minutes', created_at, '2000-01-01T00:00:00Z') AS minutes,
          date_bin('30 minutes', created_at, '2000-01-01T00:00:00Z') AS half_hour, date_trunc('hour', created_at, 'UTC') AS hour,
          date_trunc('day', created_at, 'UTC') AS day, model, user_id, metadata ->> 'node_name' AS node, success, prompt_tokens,
          completion_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_usd, latency_ms::int8 AS latency_ms,
          time_to_first_token_ms::int8 AS time_to_first_token_ms
        FROM llm_tracker_usage
      ) AS g
      GROUP BY GROUPING SETS ((g.minutes, g.model), (g.minutes, g.user_id), (g.minutes, g.node), (g.minutes),
                              (g.half_hour, g.model), (g.half_hour, g.node), (g.half_hour),
                              (g.hour, g.model), (g.hour, g.user_id), (g.hour, g.node), (g.hour),
                              (g.day, g.model), (g.day, g.user_id), (g.day, g.node), (g.day))`;
  });
}

/** "Now" for the timed ranges: near the end of the seeded days, at an arbitrary microsecond. */
const NOW = Date.parse("2026-02-04T13:37:21.123Z");
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The ranges the stats benchmarks time, as a page asks for them: the last 24
 * hours and 7 days up to an arbitrary instant, and 30 days with edges at odd
 * seconds read as wall-clock times in Asia/Kolkata (UTC+5:30: every local
 * midnight cuts a UTC hour).
 */
export const STATS_RANGES = [
  { label: "last 24 h", start: iso(NOW - 86_400_000), end: iso(NOW), zone: "UTC" },
  { label: "last 7 d", start: iso(NOW - 7 * 86_400_000), end: iso(NOW), zone: "America/New_York" },
  { label: "30 d, odd seconds, Kolkata", start: "2026-01-03T05:17:43", end: "2026-02-02T19:41:09.5", zone: "Asia/Kolkata" },
] as const;
export type StatsRange = (typeof STATS_RANGES)[number];
