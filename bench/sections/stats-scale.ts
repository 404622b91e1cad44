// Target 3, stats at scale: the stats functions over a 30-day range at 1M and 10M
// rows (quick: 100k), timed beside the plain aggregation over the raw rows in the
// same run, whose results they must equal exactly (the section throws if not).
// Also what the rollup triggers cost an insert: the worker's statement shape into
// the real table vs a trigger-less copy, batches interleaved.
import { isDeepStrictEqual } from "node:util";
import postgres, { type Sql } from "postgres";
import { compactRollup } from "../../src/db/rollup-compaction.js";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats } from "../../src/stats/index.js";
import { createTestDatabase } from "../../test/support/test-database.js";
import { fmt, median, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";
import { benchEvents, rawInserter } from "../support/usage-rows.js";

const TARGET_MS = 50;
/** Rows per seeding statement: each one fires the rollup trigger once over its rows. */
const SEED_CHUNK = 250_000;
/** The seeded rows spread over 35 days from here (UTC). */
const FIRST_DAY = "2026-01-01T00:00:00Z";
const SPAN_DAYS = 35;

/** The two 30-day ranges timed: whole UTC days, and odd date-time edges read in Shanghai. */
const RANGES = [
  { label: "UTC 30 d", start: "2026-01-03", end: "2026-02-01", zone: "UTC" },
  { label: "Shanghai 30 d, odd edges", start: "2026-01-02T07:13:29", end: "2026-02-01T17:47:03.25", zone: "Asia/Shanghai" },
] as const;
type Range = (typeof RANGES)[number];

/**
 * Seeds rows [from, to) of the synthetic table with INSERT … SELECT generate_series, in
 * chunks: 20 models, 1,000 users (1% none), 10 nodes (5% none), 2% failed, 4% unpriced,
 * created_at spread pseudo-randomly over SPAN_DAYS at microsecond resolution.
 */
async function seed(sql: Sql, from: number, to: number): Promise<void> {
  const spanMicros = SPAN_DAYS * 86_400_000_000;
  for (let start = from; start < to; start += SEED_CHUNK) {
    const end = Math.min(to, start + SEED_CHUNK) - 1;
    await sql`
      INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
        reasoning_tokens, success, error, metadata, created_at, provider, cost_usd)
      SELECT gen_random_uuid(),
        CASE WHEN g % 100 = 7 THEN NULL ELSE 'user-' || (g * 31 % 1000) END,
        'model-' || lpad((g * 7 % 20)::text, 2, '0'),
        p, c, p + c, p / 4, 0,
        g % 50 <> 3,
        CASE WHEN g % 50 = 3 THEN 'provider said no' END,
        CASE WHEN g % 20 = 5 THEN '{"source_type": "task"}'::jsonb ELSE jsonb_build_object('node_name', 'node-' || (g * 3 % 10)) END,
        ${FIRST_DAY}::timestamptz + ((g * 2654435761) % ${spanMicros}) * interval '1 microsecond',
        'openai',
        CASE WHEN g % 25 = 11 THEN NULL ELSE (p * 0.0000025 + c * 0.00001)::numeric(20, 10) END
      FROM generate_series(${start}::int8, ${end}::int8) AS g
      CROSS JOIN LATERAL (SELECT (g * 13 % 4000)::int AS p, (g * 17 % 1000)::int AS c) AS tokens`;
  }
  await sql`VACUUM ANALYZE llm_tracker_usage`;
  await sql`VACUUM ANALYZE llm_tracker_usage_rollup`;
}

/** The bound of a range as the contract reads it (a date alone: that day's midnight, or the next one's as an end). */
function boundSql(sql: Sql, value: string, zone: string, side: "start" | "end") {
  if (value.length === 10 && side === "end") return sql`((${value}::date + 1)::timestamp AT TIME ZONE ${zone})`;
  return sql`(${value}::timestamp AT TIME ZONE ${zone})`;
}

/** The plain aggregations over the raw rows (the stats before the rollup), shaped like the stats' results. */
function rawQueries(sql: Sql, range: Range): Record<string, () => Promise<unknown>> {
  const where = sql`created_at >= ${boundSql(sql, range.start, range.zone, "start")} AND created_at < ${boundSql(sql, range.end, range.zone, "end")}`;
  const totals = sql`count(*) AS total_calls, coalesce(sum(prompt_tokens), 0) AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0) AS total_completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
    round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd`;
  const n = (value: unknown) => Number(value);
  const grouped = (row: Record<string, unknown>) => ({
    total_calls: n(row.total_calls),
    total_prompt_tokens: n(row.total_prompt_tokens),
    total_completion_tokens: n(row.total_completion_tokens),
    total_tokens: n(row.total_tokens),
    total_cost_usd: n(row.total_cost_usd),
  });
  const byGroup = (column: "model" | "user_id" | "node_name", source: ReturnType<Sql>) => async () =>
    (
      await sql`SELECT ${sql(column)}, ${totals} FROM (${source}) AS s GROUP BY 1
        ORDER BY total_tokens DESC, ${sql(column)} COLLATE "C" NULLS LAST`
    ).map((row) => ({ [column]: row[column], ...grouped(row) }));
  return {
    getSummaryStats: async () => {
      const [row] = await sql`SELECT ${totals}, count(*) FILTER (WHERE success) AS successful_calls,
        count(*) FILTER (WHERE NOT success) AS failed_calls, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls
        FROM llm_tracker_usage WHERE ${where}`;
      const t = grouped(row!);
      return {
        total_prompt_tokens: t.total_prompt_tokens,
        total_completion_tokens: t.total_completion_tokens,
        total_tokens: t.total_tokens,
        total_calls: t.total_calls,
        successful_calls: n(row!.successful_calls),
        failed_calls: n(row!.failed_calls),
        total_cost_usd: t.total_cost_usd,
        unpriced_calls: n(row!.unpriced_calls),
      };
    },
    getStatsByModel: byGroup("model", sql`SELECT * FROM llm_tracker_usage WHERE ${where}`),
    getStatsByDay: async () =>
      (
        await sql`SELECT to_char((created_at AT TIME ZONE ${range.zone})::date, 'YYYY-MM-DD') AS date, count(*) AS total_calls,
          sum(total_tokens) AS total_tokens, round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd
          FROM llm_tracker_usage WHERE ${where} GROUP BY 1 ORDER BY 1`
      ).map((row) => ({ date: row.date, total_calls: n(row.total_calls), total_tokens: n(row.total_tokens), total_cost_usd: n(row.total_cost_usd) })),
    getStatsByUser: byGroup("user_id", sql`SELECT * FROM llm_tracker_usage WHERE ${where}`),
    getStatsByNode: byGroup("node_name", sql`SELECT metadata->>'node_name' AS node_name, * FROM llm_tracker_usage WHERE ${where}`),
  };
}

const STATS = { getSummaryStats, getStatsByModel, getStatsByDay, getStatsByUser, getStatsByNode } as const;

async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<{ ms: number; result: unknown }> {
  let result: unknown;
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    result = await fn();
    times.push(performance.now() - start);
  }
  return { ms: median(times), result };
}

/** Each stats function over each range: median of `runs` after a warm-up, beside the raw aggregation; results must be equal. */
async function timeStats(sql: Sql, label: string, runs: number, rawRuns: number, targeted: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const range of RANGES) {
    const raw = rawQueries(sql, range);
    for (const [name, stat] of Object.entries(STATS)) {
      const call = () => stat(range.start, range.end, { db: sql, timeZone: range.zone });
      await call(); // warm-up: plans, caches
      const ours = await timeRuns(runs, call);
      const plain = await timeRuns(rawRuns, raw[name]!);
      if (!isDeepStrictEqual(ours.result, plain.result)) {
        throw new Error(`${name} over ${range.label} at ${label} differs from the plain aggregation:\n` +
          `${JSON.stringify(ours.result).slice(0, 400)}\n${JSON.stringify(plain.result).slice(0, 400)}`);
      }
      console.log(`${label} ${name} (${range.label}): ${fmt.ms(ours.ms)} vs raw ${fmt.ms(plain.ms)} — equal`);
      rows.push({
        figure: `${name}, ${label} rows, ${range.label}`,
        value: `${fmt.ms(ours.ms)} (median of ${runs})`,
        baseline: `raw aggregation ${fmt.ms(plain.ms)} (median of ${rawRuns}), equal`,
        target: targeted ? `≤ ${TARGET_MS} ms` : "-",
        verdict: targeted ? verdict(ours.ms <= TARGET_MS) : "",
      });
    }
  }
  return rows;
}

/** rows/s into llm_tracker_usage (rollup triggers) vs a copy without triggers: same statement, batches interleaved. */
async function triggerCost(sql: Sql, total: number): Promise<Row[]> {
  await sql.unsafe("CREATE TABLE usage_no_triggers (LIKE llm_tracker_usage INCLUDING ALL)");
  const batch = 2_000;
  const withTriggers = rawInserter(sql, "llm_tracker_usage");
  const without = rawInserter(sql, "usage_no_triggers");
  let triggered = 0;
  let plain = 0;
  for (let offset = 0; offset < total; offset += batch) {
    // Fresh events per table (same shape), so neither insert only meets conflicts.
    const a = benchEvents(batch, 20_000_000 + offset);
    const b = benchEvents(batch, 40_000_000 + offset);
    let start = performance.now();
    await withTriggers(a);
    triggered += performance.now() - start;
    start = performance.now();
    await without(b);
    plain += performance.now() - start;
  }
  const rate = (ms: number) => total / (ms / 1000);
  console.log(`insert ${total} rows: with rollup triggers ${fmt.rate(rate(triggered))}, without ${fmt.rate(rate(plain))}`);
  return [
    {
      figure: `insert with rollup triggers (${total.toLocaleString("en-US")} rows, ${batch}/statement)`,
      value: fmt.rate(rate(triggered)),
      baseline: `no triggers ${fmt.rate(rate(plain))} (cost ${((triggered / plain - 1) * 100).toFixed(0)}%)`,
      target: "-",
      verdict: "",
    },
  ];
}

const section: BenchSection = {
  title: "Stats at scale (rollup + raw edges vs plain aggregation)",
  async run({ quick }) {
    const sizes = quick ? [100_000] : [1_000_000, 10_000_000];
    const db = await createTestDatabase("llmt_bench_stats");
    const sql = postgres(db.url, { max: 2, onnotice: () => {}, fetch_types: false });
    const rows: Row[] = [];
    try {
      await runMigrations(db.url);
      // First, while both tables are empty, so neither insert meets bigger indexes.
      const insertCost = await triggerCost(sql, quick ? 50_000 : 1_000_000);
      await sql`TRUNCATE llm_tracker_usage, llm_tracker_usage_rollup`;
      let seeded = 0;
      for (const size of sizes) {
        const start = performance.now();
        await seed(sql, seeded, size);
        const seconds = (performance.now() - start) / 1000;
        const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;
        console.log(`seeded ${label} rows (+${(size - seeded).toLocaleString("en-US")}) in ${seconds.toFixed(1)} s`);
        rows.push({
          figure: `seed to ${label} rows (INSERT … SELECT, triggers on)`,
          value: `${seconds.toFixed(1)} s`,
          baseline: `${fmt.rate((size - seeded) / seconds)}`,
          target: "-",
          verdict: "",
        });
        seeded = size;
        // As the worker does every LLM_TRACKER_ROLLUP_COMPACT_MS: merge the appended partial sums.
        const compactStart = performance.now();
        const removed = await compactRollup(sql);
        const compactSeconds = (performance.now() - compactStart) / 1000;
        // What autovacuum does after such a load: drop the merged rows' dead versions and
        // refresh the planner's statistics, so the figures show the steady state.
        await sql`VACUUM (ANALYZE) llm_tracker_usage_rollup`;
        await sql`ANALYZE llm_tracker_usage`;
        console.log(`compacted the rollup (${removed.toLocaleString("en-US")} partial rows merged) in ${compactSeconds.toFixed(1)} s`);
        rows.push({
          figure: `compact the rollup after seeding to ${label}`,
          value: `${compactSeconds.toFixed(1)} s`,
          baseline: `${removed.toLocaleString("en-US")} partial rows merged`,
          target: "-",
          verdict: "",
        });
        rows.push(...(await timeStats(sql, label, 7, size >= 10_000_000 ? 3 : 5, size >= 10_000_000 || quick)));
      }
      rows.push(...insertCost);
    } finally {
      await sql.end();
      await db.drop();
    }
    return rows;
  },
};

export default section;
