// Stats at scale (issue 13): every stats function over "last 24 h", "last 7 d"
// and a 30-day range with odd-second edges in Asia/Kolkata, at 1M and 10M
// time-ordered rows with 100,000 users (quick: 100k rows), timed beside the
// plain aggregation over the raw rows in the same run, whose results they must
// equal exactly (the section throws if not). Also what the rollup triggers cost
// an insert: the worker's statement shape into the real table vs a trigger-less
// copy, batches interleaved.
import { isDeepStrictEqual } from "node:util";
import postgres, { type Sql } from "postgres";
import { runMigrations } from "../../src/db/migrate.js";
import {
  getRecentFailures,
  getStatsByDay,
  getStatsByModel,
  getStatsByNode,
  getStatsByUser,
  getStatsOverTime,
  getSummaryStats,
} from "../../src/stats/index.js";
import { ADMIN_DATABASE_URL, databaseUrl } from "../../test/support/services.js";
import { createTestDatabase } from "../../test/support/test-database.js";
import { fmt, timeRuns, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";
import { timeDashboardApi } from "../support/dashboard-api-timing.js";
import { seedWithRollupBuilt, STATS_RANGES, type StatsRange } from "../support/stats-seed.js";
import { benchEvents, rawInserter } from "../support/usage-rows.js";

const TARGET_MS = 50;
/** The top N the ranked stats are asked for. */
const TOP = 10;
type Range = StatsRange;

/** The bound of a range as the contract reads it (a date alone: that day's midnight, or the next one's as an end). */
function boundSql(sql: Sql, value: string, zone: string, side: "start" | "end") {
  if (value.endsWith("Z")) return sql`${value}::timestamptz`;
  if (value.length === 10 && side === "end") return sql`((${value}::date + 1)::timestamp AT TIME ZONE ${zone})`;
  return sql`(${value}::timestamp AT TIME ZONE ${zone})`;
}

/** The plain aggregations over the raw rows (the stats before the rollup), shaped like the stats' results. */
function rawQueries(sql: Sql, range: Range): Record<string, () => Promise<unknown>> {
  const where = sql`created_at >= ${boundSql(sql, range.start, range.zone, "start")} AND created_at < ${boundSql(sql, range.end, range.zone, "end")}`;
  const totals = sql`count(*) AS total_calls, coalesce(sum(prompt_tokens), 0) AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0) AS total_completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
    round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd,
    coalesce(round(avg(latency_ms), 3), 0)::float8 AS avg_latency_ms,
    coalesce(round(avg(time_to_first_token_ms), 3), 0)::float8 AS avg_time_to_first_token_ms`;
  const n = (value: unknown) => Number(value);
  const grouped = (row: Record<string, unknown>) => ({
    total_calls: n(row.total_calls),
    total_prompt_tokens: n(row.total_prompt_tokens),
    total_completion_tokens: n(row.total_completion_tokens),
    total_tokens: n(row.total_tokens),
    total_cost_usd: n(row.total_cost_usd),
    avg_latency_ms: n(row.avg_latency_ms),
    avg_time_to_first_token_ms: n(row.avg_time_to_first_token_ms),
  });
  const byGroup = (column: "model" | "user_id" | "node_name", source: ReturnType<Sql>, limit?: number) => async () =>
    (
      await sql`SELECT ${sql(column)}, ${totals} FROM (${source}) AS s GROUP BY 1
        ORDER BY total_tokens DESC, ${sql(column)} COLLATE "C" NULLS LAST ${limit ? sql`LIMIT ${limit}` : sql``}`
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
        avg_latency_ms: t.avg_latency_ms,
        avg_time_to_first_token_ms: t.avg_time_to_first_token_ms,
      };
    },
    getStatsByModel: byGroup("model", sql`SELECT * FROM llm_tracker_usage WHERE ${where}`),
    getStatsByDay: async () =>
      (
        await sql`SELECT to_char((created_at AT TIME ZONE ${range.zone})::date, 'YYYY-MM-DD') AS date, count(*) AS total_calls,
          sum(total_tokens) AS total_tokens, round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd
          FROM llm_tracker_usage WHERE ${where} GROUP BY 1 ORDER BY 1`
      ).map((row) => ({ date: row.date, total_calls: n(row.total_calls), total_tokens: n(row.total_tokens), total_cost_usd: n(row.total_cost_usd) })),
    getStatsByUser: byGroup("user_id", sql`SELECT * FROM llm_tracker_usage WHERE ${where}`, TOP),
    getStatsByNode: byGroup("node_name", sql`SELECT metadata->>'node_name' AS node_name, * FROM llm_tracker_usage WHERE ${where}`, TOP),
    // Compared on their totals: calls and tokens per local hour, summed.
    getStatsOverTime: async () => {
      const [row] = await sql`SELECT count(*)::int8 AS calls, sum(tokens)::int8 AS tokens, count(*) AS hours FROM (
        SELECT date_trunc('hour', created_at AT TIME ZONE ${range.zone}) AS hour, count(*) AS n, sum(total_tokens) AS tokens
        FROM llm_tracker_usage WHERE ${where} GROUP BY 1) AS h`;
      return { hours: n(row!.hours), tokens: n(row!.tokens) };
    },
    // The same query as getRecentFailures', kept off the partial index of failed calls.
    getRecentFailures: async () =>
      (
        await sql`SELECT id FROM llm_tracker_usage WHERE NOT success AND ${where}
          ORDER BY created_at + interval '0 seconds' DESC, id DESC LIMIT 20`
      ).map((row) => row.id),
  };
}

/** Each stats function as a page calls it, shaped like its baseline's result. */
const STATS: Record<string, (range: Range, sql: Sql) => Promise<unknown>> = {
  getSummaryStats: (r, db) => getSummaryStats(r.start, r.end, { db, timeZone: r.zone }),
  getStatsByModel: (r, db) => getStatsByModel(r.start, r.end, { db, timeZone: r.zone }),
  getStatsByDay: (r, db) => getStatsByDay(r.start, r.end, { db, timeZone: r.zone }),
  getStatsByUser: (r, db) => getStatsByUser(r.start, r.end, { db, timeZone: r.zone, limit: TOP }),
  getStatsByNode: (r, db) => getStatsByNode(r.start, r.end, { db, timeZone: r.zone, limit: TOP }),
  getStatsOverTime: async (r, db) => {
    const entries = await getStatsOverTime(r.start, r.end, { db, timeZone: r.zone, bucket: "hour" });
    return { hours: entries.filter((e) => e.total_calls > 0).length, tokens: entries.reduce((sum, e) => sum + e.total_tokens, 0) };
  },
  getRecentFailures: async (r, db) =>
    (await getRecentFailures(20, { db, startDate: r.start, endDate: r.end, timeZone: r.zone })).map((failure) => failure.id),
};
const NAMES: Record<string, string> = {
  getStatsByUser: `getStatsByUser (limit ${TOP})`,
  getStatsByNode: `getStatsByNode (limit ${TOP})`,
  getStatsOverTime: "getStatsOverTime (hour)",
};

/** Each stats function over each range: median of `runs` after a warm-up, beside the raw aggregation; results must be equal. */
async function timeStats(sql: Sql, label: string, runs: number, rawRuns: number, targeted: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const range of STATS_RANGES) {
    const raw = rawQueries(sql, range);
    for (const [name, stat] of Object.entries(STATS)) {
      const call = () => stat(range, sql);
      await call(); // warm-up: plans, caches
      const ours = await timeRuns(runs, call);
      const plain = await timeRuns(rawRuns, raw[name]!);
      if (!isDeepStrictEqual(ours.result, plain.result)) {
        throw new Error(`${name} over ${range.label} at ${label} differs from the plain aggregation:\n` +
          `${JSON.stringify(ours.result).slice(0, 400)}\n${JSON.stringify(plain.result).slice(0, 400)}`);
      }
      console.log(`${label} ${name} (${range.label}): ${fmt.ms(ours.ms)} vs raw ${fmt.ms(plain.ms)} — equal`);
      rows.push({
        figure: `${NAMES[name] ?? name}, ${label} rows, ${range.label}`,
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

/** Where the seeded rows live: a fresh database, or the one named by LLM_TRACKER_BENCH_STATS_DB, kept between runs. */
async function statsDatabase(): Promise<{ url: string; kept: boolean; drop(): Promise<void> }> {
  const name = process.env.LLM_TRACKER_BENCH_STATS_DB;
  if (!name) return { ...(await createTestDatabase("llmt_bench_stats")), kept: false };
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error("LLM_TRACKER_BENCH_STATS_DB must be a plain lower-case name");
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (!exists) await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return { url: databaseUrl(name), kept: true, drop: async () => {} };
}

/** The size a kept database was last seeded with (0: none), from the marker the seed leaves. */
async function seededSize(sql: Sql): Promise<number> {
  await sql`CREATE TABLE IF NOT EXISTS bench_seeded (size bigint NOT NULL)`;
  const [row] = await sql`SELECT size FROM bench_seeded`;
  return row ? Number(row.size) : 0;
}

const section: BenchSection = {
  title: "Stats at scale (rollup + raw edges vs plain aggregation, time-ordered rows, 100k users)",
  async run({ quick }) {
    // LLM_TRACKER_BENCH_STATS_ROWS=1000000 runs one size only. LLM_TRACKER_BENCH_STATS_DB=name keeps
    // the seeded rows in that database and reuses them while the size matches (a 10M seed takes ~30 min).
    const only = Number(process.env.LLM_TRACKER_BENCH_STATS_ROWS ?? 0);
    const sizes = only > 0 ? [only] : quick ? [100_000] : [1_000_000, 10_000_000];
    const rows: Row[] = [];
    // First, in a database of its own whose tables are empty, so neither insert meets bigger indexes.
    const scratch = await createTestDatabase("llmt_bench_triggers");
    const scratchSql = postgres(scratch.url, { max: 1, onnotice: () => {}, fetch_types: false });
    let insertCost: Row[];
    try {
      await runMigrations(scratch.url);
      insertCost = await triggerCost(scratchSql, quick ? 50_000 : 200_000);
    } finally {
      await scratchSql.end();
      await scratch.drop();
    }
    const db = await statsDatabase();
    const sql = postgres(db.url, { max: 2, onnotice: () => {}, fetch_types: false });
    try {
      await runMigrations(db.url);
      for (const size of sizes) {
        const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;
        if (db.kept && (await seededSize(sql)) === size) {
          console.log(`reusing the ${label} rows seeded earlier in ${process.env.LLM_TRACKER_BENCH_STATS_DB}`);
        } else {
          // Rows are written in time order, as the worker writes them: each size is seeded afresh.
          await sql`TRUNCATE llm_tracker_usage, llm_tracker_usage_rollup`;
          if (db.kept) await sql`DELETE FROM bench_seeded`;
          const start = performance.now();
          await seedWithRollupBuilt(sql, size);
          await sql`VACUUM ANALYZE llm_tracker_usage`;
          await sql`VACUUM ANALYZE llm_tracker_usage_rollup`;
          if (db.kept) await sql`INSERT INTO bench_seeded (size) VALUES (${size})`;
          const seconds = (performance.now() - start) / 1000;
          const [{ users, rollup }] = (await sql`SELECT count(DISTINCT user_id)::int AS users,
            (SELECT count(*)::int FROM llm_tracker_usage_rollup) AS rollup FROM llm_tracker_usage`) as unknown as [{ users: number; rollup: number }];
          console.log(`seeded ${label} rows (${users} users, ${rollup} rollup rows) in ${seconds.toFixed(1)} s`);
          rows.push({
            figure: `seed ${label} time-ordered rows, ${users.toLocaleString("en-US")} users (rollup built in one statement)`,
            value: `${seconds.toFixed(1)} s`,
            baseline: `${rollup.toLocaleString("en-US")} rollup rows`,
            target: "-",
            verdict: "",
          });
        }
        const targeted = size >= 10_000_000 || quick;
        rows.push(...(await timeStats(sql, label, 7, size >= 10_000_000 ? 1 : 3, targeted)));
        rows.push(...(await timeDashboardApi(db.url, STATS_RANGES, label, 7, targeted ? TARGET_MS : null)));
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
