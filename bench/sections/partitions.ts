// The partitioned usage table (drizzle/0007) beside the unpartitioned one it
// replaces (the schema before 0007, same rows), in the same run: the worker's
// insert, bytes per row on disk (table + indexes: the capacity model), the stats
// over 30 daily partitions (results must be equal, the section throws if not),
// the conversion of the unpartitioned table by the migration, and what dropping
// expired days costs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import postgres, { type Sql } from "postgres";
import { migrationsFolder, runMigrations } from "../../src/db/migrate.js";
import { compactRollup } from "../../src/db/rollup-compaction.js";
import { getStatsByDay, getStatsByModel, getStatsByUser, getStatsOverTime, getSummaryStats } from "../../src/stats/index.js";
import { insertUsageRows } from "../../workers/insert-usage-rows.js";
import { migrateUntil } from "../../test/support/migrate-until.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/test-database.js";
import { fmt, timeRuns, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";
import { benchEvents } from "../support/usage-rows.js";

/** The migration an installation stopped at before the table was partitioned. */
function tagBeforePartitioning(): string {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  return journal.entries[journal.entries.findIndex((entry) => entry.tag === "0007_partition_usage_by_day") - 1]!.tag;
}

const FIRST_DAY = "2026-01-01";
const SPAN_DAYS = 30;
const SEED_CHUNK = 250_000;
const INGEST_BATCH = 2_000;

/** `[from, to)` rows over SPAN_DAYS days from FIRST_DAY (UTC), the shape of stats-scale's seed: 20 models, 1,000 users, 10 nodes. */
async function seed(sql: Sql, from: number, to: number): Promise<void> {
  const spanMicros = SPAN_DAYS * 86_400_000_000;
  for (let start = from; start < to; start += SEED_CHUNK) {
    const end = Math.min(to, start + SEED_CHUNK) - 1;
    await sql`
      INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
        reasoning_tokens, success, error, metadata, created_at, provider, latency_ms, usage_reported, cost_usd, price_version)
      SELECT md5('bench-' || g)::uuid,
        CASE WHEN g % 100 = 7 THEN NULL ELSE 'user-' || (g * 31 % 1000) END,
        'model-' || lpad((g * 7 % 20)::text, 2, '0'),
        p, c, p + c, p / 4, 0, g % 50 <> 3, CASE WHEN g % 50 = 3 THEN 'provider said no' END,
        jsonb_build_object('node_name', 'node-' || (g * 3 % 10), 'source_type', 'task', 'source_task_id', md5(g::text)),
        ${FIRST_DAY}::timestamptz + ((g * 2654435761) % ${spanMicros}) * interval '1 microsecond',
        'openai', 200 + g % 3000, true,
        CASE WHEN g % 25 = 11 THEN NULL ELSE (p * 0.0000025 + c * 0.00001)::numeric(20, 10) END, 'litellm-2026-11'
      FROM generate_series(${start}::int8, ${end}::int8) AS g
      CROSS JOIN LATERAL (SELECT (g * 13 % 4000)::int AS p, (g * 17 % 1000)::int AS c) AS tokens`;
  }
}

/** Bytes of the usage table on disk (heap, TOAST, every index; every partition), and of the rollup. */
async function sizes(sql: Sql): Promise<{ usage: number; rollup: number; rows: number }> {
  const [row] = await sql<{ usage: string; rollup: string; rows: string }[]>`
    SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
            WHERE c.oid = 'llm_tracker_usage'::regclass
               OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'llm_tracker_usage'::regclass))::int8::text AS usage,
      pg_total_relation_size('llm_tracker_usage_rollup')::text AS rollup,
      (SELECT count(*) FROM llm_tracker_usage)::text AS rows`;
  return { usage: Number(row!.usage), rollup: Number(row!.rollup), rows: Number(row!.rows) };
}

const RANGE = { start: "2026-01-03T07:13:29Z", end: "2026-01-29T17:47:03.25Z" };
const STATS: Record<string, (sql: Sql) => Promise<unknown>> = {
  getSummaryStats: (db) => getSummaryStats(RANGE.start, RANGE.end, { db }),
  getStatsByModel: (db) => getStatsByModel(RANGE.start, RANGE.end, { db }),
  "getStatsByDay (Shanghai)": (db) => getStatsByDay(RANGE.start, RANGE.end, { db, timeZone: "Asia/Shanghai" }),
  getStatsByUser: (db) => getStatsByUser(RANGE.start, RANGE.end, { db, limit: 20 }),
  "getStatsOverTime (day, by node)": (db) => getStatsOverTime(RANGE.start, RANGE.end, { db, bucket: "day", groupBy: "node" }),
};

async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<{ ms: number; result: unknown }> {
  await fn(); // warm-up
  return timeRuns(runs, fn);
}

/** Each stats function on both tables, alternating; the results must be equal. Returns the partitioned table's results. */
async function timeStats(plain: Sql, partitioned: Sql, label: string, rows: Row[]): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const [name, stat] of Object.entries(STATS)) {
    const base = await medianMs(7, () => stat(plain));
    const ours = await medianMs(7, () => stat(partitioned));
    if (!isDeepStrictEqual(base.result, ours.result)) throw new Error(`${name} differs between the unpartitioned and the partitioned table`);
    results[name] = ours.result;
    console.log(`${label} ${name}: partitioned ${fmt.ms(ours.ms)} vs unpartitioned ${fmt.ms(base.ms)} — equal`);
    rows.push({
      figure: `${name}, ${label} rows over ${SPAN_DAYS} daily partitions (26 d, odd edges)`,
      value: `${fmt.ms(ours.ms)} (median of 7)`,
      baseline: `unpartitioned ${fmt.ms(base.ms)}, equal (×${fmt.ratio(ours.ms / base.ms)})`,
      target: "≤ 50 ms",
      verdict: verdict(ours.ms <= 50),
    });
  }
  return results;
}

const section: BenchSection = {
  title: "Partitioned usage table (daily partitions vs the unpartitioned table, same rows)",
  async run({ quick }) {
    const total = quick ? 100_000 : 1_000_000;
    const ingest = quick ? 40_000 : 200_000;
    const label = total >= 1_000_000 ? `${total / 1_000_000}M` : `${total / 1000}k`;
    const rows: Row[] = [];
    const databases: TestDatabase[] = [];
    const clients: Sql[] = [];
    try {
      const plainDb = await createTestDatabase("llmt_bench_plain");
      databases.push(plainDb);
      const partDb = await createTestDatabase("llmt_bench_part");
      databases.push(partDb);
      await migrateUntil(plainDb.url, tagBeforePartitioning());
      await runMigrations(partDb.url);
      const plain = postgres(plainDb.url, { max: 2, onnotice: () => {}, fetch_types: false });
      const partitioned = postgres(partDb.url, { max: 2, onnotice: () => {}, fetch_types: false });
      clients.push(plain, partitioned);
      await partitioned`SELECT count(*) FROM llm_tracker_usage_create_partitions(${FIRST_DAY}::date, ${FIRST_DAY}::date + ${SPAN_DAYS}::int)`;

      // 1. The worker's insert (its statement, batches of 2,000 stamped now), tables alternating per batch.
      let plainMs = 0;
      let partMs = 0;
      await insertUsageRows(plain, benchEvents(INGEST_BATCH, 90_000_000));
      await insertUsageRows(partitioned, benchEvents(INGEST_BATCH, 90_000_000));
      for (let offset = 0; offset < ingest; offset += INGEST_BATCH) {
        const events = benchEvents(INGEST_BATCH, offset);
        const order = (offset / INGEST_BATCH) % 2 === 0 ? [plain, partitioned] : [partitioned, plain];
        for (const sql of order) {
          const start = performance.now();
          await insertUsageRows(sql, events);
          if (sql === plain) plainMs += performance.now() - start;
          else partMs += performance.now() - start;
        }
      }
      const plainRate = ingest / (plainMs / 1000);
      const partRate = ingest / (partMs / 1000);
      console.log(`worker insert: partitioned ${fmt.rate(partRate)} vs unpartitioned ${fmt.rate(plainRate)}`);
      rows.push({
        figure: `worker insert (${ingest.toLocaleString("en-US")} events, ${INGEST_BATCH}/statement, rollup triggers on)`,
        value: fmt.rate(partRate),
        baseline: `unpartitioned ${fmt.rate(plainRate)} (×${fmt.ratio(partRate / plainRate)})`,
        target: "≥ 0.95×",
        verdict: verdict(partRate / plainRate >= 0.95),
      });

      // 2. The span the stats read, same rows in both.
      for (const sql of [plain, partitioned]) {
        const start = performance.now();
        await seed(sql, 0, total);
        console.log(`seeded ${label} rows in ${((performance.now() - start) / 1000).toFixed(1)} s`);
        await compactRollup(sql);
        await sql`VACUUM (ANALYZE) llm_tracker_usage_rollup`;
        await sql`VACUUM (ANALYZE) llm_tracker_usage`;
      }

      // 3. Bytes per row.
      const plainSize = await sizes(plain);
      const partSize = await sizes(partitioned);
      const perRow = partSize.usage / partSize.rows;
      const plainPerRow = plainSize.usage / plainSize.rows;
      const gbPerMonth = (bytes: number) => `${((bytes * 30 * 1_000_000) / 1e9).toFixed(1)} GB/month at 1M calls/day`;
      console.log(`bytes/row: partitioned ${perRow.toFixed(0)}, unpartitioned ${plainPerRow.toFixed(0)}; rollup ${partSize.rollup} B`);
      rows.push({
        figure: `usage table on disk per row (heap + TOAST + every index), ${partSize.rows.toLocaleString("en-US")} rows`,
        value: `${fmt.bytes(perRow)} (${gbPerMonth(perRow)})`,
        baseline: `unpartitioned ${fmt.bytes(plainPerRow)} (${gbPerMonth(plainPerRow)})`,
        target: "-",
        verdict: "",
      });
      rows.push({
        figure: `rollup on disk after compaction (${SPAN_DAYS + 1} days, 20 models, 1,000 users, 10 nodes)`,
        value: fmt.mb(partSize.rollup),
        baseline: `${fmt.bytes(partSize.rollup / (SPAN_DAYS + 1))} per day of traffic`,
        target: "-",
        verdict: "",
      });

      // 4. Stats across the daily partitions.
      const before = await timeStats(plain, partitioned, label, rows);

      // 5. The migration converting the unpartitioned table (what an upgrade costs), stats unchanged after it.
      const convertStart = performance.now();
      await runMigrations(plainDb.url);
      const convertSeconds = (performance.now() - convertStart) / 1000;
      for (const [name, stat] of Object.entries(STATS)) {
        if (!isDeepStrictEqual(await stat(plain), before[name])) throw new Error(`${name} changed when the table was converted`);
      }
      console.log(`converted ${plainSize.rows.toLocaleString("en-US")} rows in ${convertSeconds.toFixed(1)} s; stats unchanged`);
      rows.push({
        figure: `migration 0007 converting ${plainSize.rows.toLocaleString("en-US")} rows (table locked meanwhile)`,
        value: `${convertSeconds.toFixed(1)} s`,
        baseline: `${((convertSeconds / plainSize.rows) * 1_000_000).toFixed(1)} s per 1M rows; stats equal after`,
        target: "-",
        verdict: "",
      });

      // 6. Retention: drop the first 10 days (no row DELETE), totals kept by the rollup.
      const [age] = await partitioned<{ days: number }[]>`
        SELECT ceil(extract(epoch FROM now() - (${FIRST_DAY}::date + 10)::timestamp AT TIME ZONE 'UTC') / 86400)::int AS days`;
      const dropStart = performance.now();
      const dropped = await partitioned`SELECT * FROM llm_tracker_usage_drop_expired_partitions(${age!.days})`;
      const dropMs = performance.now() - dropStart;
      const left = await sizes(partitioned);
      const summary = await getSummaryStats(FIRST_DAY, `2026-01-${SPAN_DAYS}`, { db: partitioned });
      if (summary.total_calls !== total) throw new Error(`after the drop the stats count ${summary.total_calls} calls, not ${total}`);
      console.log(`dropped ${dropped.length} partitions (${(partSize.rows - left.rows).toLocaleString("en-US")} rows) in ${fmt.ms(dropMs)}; stats still count ${summary.total_calls}`);
      rows.push({
        figure: `retention: drop ${dropped.length} expired daily partitions (${(partSize.rows - left.rows).toLocaleString("en-US")} rows)`,
        value: fmt.ms(dropMs),
        baseline: `whole-day stats still count every call (${summary.total_calls.toLocaleString("en-US")})`,
        target: "-",
        verdict: "",
      });
    } finally {
      await Promise.all(clients.map((sql) => sql.end()));
      await Promise.all(databases.map((db) => db.drop()));
    }
    return rows;
  },
};

export default section;
