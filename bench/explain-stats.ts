// Prints EXPLAIN (ANALYZE, BUFFERS) of every query each stats function sends,
// over the benchmark's ranges (bench/support/stats-seed.ts), on a database of
// time-ordered rows kept between runs (seeded when its size differs):
//   node --experimental-strip-types bench/explain-stats.ts [--rows=1000000] [--only=getStatsByUser] [--reseed]
import postgres, { type Sql } from "postgres";
import { runMigrations } from "../src/db/migrate.js";
import * as stats from "../src/stats/index.js";
import { seedWithRollupBuilt, STATS_RANGES } from "./support/stats-seed.js";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rows = Number(arg("rows") ?? 1_000_000);
const only = arg("only")?.split(",");
const url = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/llmt_bench_explain";

const captured: { query: string; parameters: unknown[] }[] = [];
const sql = postgres(url, {
  max: 1,
  onnotice: () => {},
  fetch_types: false,
  debug: (_connection, query, parameters) => {
    if (!/^\s*(BEGIN|COMMIT|SET LOCAL|EXPLAIN)/i.test(query)) captured.push({ query, parameters: parameters as unknown[] });
  },
});

async function ensureSeeded(db: Sql): Promise<void> {
  await runMigrations(url);
  const [{ n }] = (await db`SELECT count(*)::int8 AS n FROM llm_tracker_usage`) as unknown as [{ n: string }];
  if (Number(n) === rows && !process.argv.includes("--reseed")) return;
  await db`TRUNCATE llm_tracker_usage, llm_tracker_usage_rollup`;
  const start = performance.now();
  await seedWithRollupBuilt(db, rows);
  console.log(`seeded ${rows} rows in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  await db`VACUUM ANALYZE llm_tracker_usage`;
  await db`VACUUM ANALYZE llm_tracker_usage_rollup`;
}

const CALLS: Record<string, (r: (typeof STATS_RANGES)[number], db: Sql) => Promise<unknown>> = {
  getSummaryStats: (r, db) => stats.getSummaryStats(r.start, r.end, { db, timeZone: r.zone }),
  getStatsByModel: (r, db) => stats.getStatsByModel(r.start, r.end, { db, timeZone: r.zone }),
  getStatsByUser: (r, db) => stats.getStatsByUser(r.start, r.end, { db, timeZone: r.zone, limit: 10 }),
  getStatsByNode: (r, db) => stats.getStatsByNode(r.start, r.end, { db, timeZone: r.zone, limit: 10 }),
  getStatsByDay: (r, db) => stats.getStatsByDay(r.start, r.end, { db, timeZone: r.zone }),
  getStatsOverTime: (r, db) => stats.getStatsOverTime(r.start, r.end, { db, timeZone: r.zone, bucket: "hour" }),
  getRecentFailures: (r, db) => stats.getRecentFailures(20, { db, startDate: r.start, endDate: r.end, timeZone: r.zone }),
};

try {
  await ensureSeeded(sql);
  for (const range of STATS_RANGES) {
    for (const [name, call] of Object.entries(CALLS)) {
      if (only && !only.includes(name)) continue;
      captured.length = 0;
      await call(range, sql); // warm, and capture
      const start = performance.now();
      await call(range, sql);
      const ms = performance.now() - start;
      const queries = [...captured].slice(captured.length / 2);
      console.log(`\n===== ${name} — ${range.label} (${range.zone}): ${ms.toFixed(1)} ms, ${queries.length} quer${queries.length === 1 ? "y" : "ies"}`);
      for (const q of queries) {
        await sql.begin(async (tx) => {
          await tx`SET LOCAL jit = off`;
          const plan = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${q.query}`, q.parameters as never[]);
          console.log(plan.map((row) => row["QUERY PLAN"]).join("\n"));
        });
      }
    }
  }
} finally {
  await sql.end();
}
