// Quick measurement (not a test): rows/s and node CPU per row of candidate
// statement shapes for the worker's batch insert into llm_tracker_usage
// (rollup triggers included), same priced rows, one connection.
// Run: npx tsx bench/insert-shapes.ts [rows=100000] [batch=2000] [rounds=3]
import postgres, { type Sql } from "postgres";
import { insertUsageRows, type UsageRow } from "../workers/insert-usage-rows.js";
import { runMigrations } from "../src/db/migrate.js";
import { createTestDatabase } from "../test/support/test-database.js";
import { benchEvents } from "./support/usage-rows.js";

const total = Number(process.argv[2] ?? 100_000);
const batch = Number(process.argv[3] ?? 2_000);
const rounds = Number(process.argv[4] ?? 3);

const COLS = [
  ["id", "uuid"], ["user_id", "text"], ["model", "text"], ["prompt_tokens", "int4"], ["completion_tokens", "int4"],
  ["total_tokens", "int4"], ["cached_tokens", "int4"], ["reasoning_tokens", "int4"], ["success", "bool"], ["error", "text"],
  ["metadata", "jsonb"], ["created_at", "timestamptz"], ["provider", "text"], ["deployment", "text"], ["latency_ms", "int4"],
  ["usage_reported", "bool"], ["cost_usd", "numeric"], ["price_version", "text"],
] as const;
const names = COLS.map(([n]) => n).join(", ");

/** A statement taking the whole batch as one JSON text parameter. */
function jsonShape(sql: Sql, from: string): (rows: UsageRow[]) => Promise<unknown> {
  const text = `INSERT INTO llm_tracker_usage (${names}) SELECT ${names} FROM ${from} ON CONFLICT DO NOTHING`;
  return (rows) => sql.unsafe(text, [JSON.stringify(rows)], { prepare: true });
}

const db = await createTestDatabase("llmt_bench");
await runMigrations(db.url);
const sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
const shapes: [string, (rows: UsageRow[]) => Promise<unknown>][] = [
  ["current insertUsageRows", (rows) => insertUsageRows(sql, rows)],
  ["jsonb_populate_recordset", jsonShape(sql, "jsonb_populate_recordset(NULL::llm_tracker_usage, $1::text::jsonb)")],
  ["json_populate_recordset", jsonShape(sql, "json_populate_recordset(NULL::llm_tracker_usage, $1::text::json)")],
  ["jsonb_to_recordset", jsonShape(sql, `jsonb_to_recordset($1::text::jsonb) AS t(${COLS.map(([n, t]) => `${n} ${t}`).join(", ")})`)],
  ["json_to_recordset", jsonShape(sql, `json_to_recordset($1::text::json) AS t(${COLS.map(([n, t]) => `${n} ${t}`).join(", ")})`)],
];
const priced = (offset: number, count: number): UsageRow[] =>
  benchEvents(count, offset).map((e, i) => ({ ...e, cost_usd: `0.000${(offset + i) % 997}1250`, price_version: "bench-1" }));
try {
  let offset = 0;
  const results = new Map<string, { rate: number; cpu: number }[]>();
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, write] of shapes) {
      await write(priced(50_000_000 + offset, batch)); // warm-up: prepare, type lookups
      offset += batch;
      const batches = Array.from({ length: Math.ceil(total / batch) }, (_, b) => priced(offset + b * batch, batch));
      offset += total;
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (const rows of batches) await write(rows);
      const seconds = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpu);
      const result = { rate: total / seconds, cpu: (used.user + used.system) / total };
      results.set(name, [...(results.get(name) ?? []), result]);
      console.log(`round ${round + 1} ${name.padEnd(26)} ${Math.round(result.rate).toLocaleString("en")} rows/s, node CPU ${result.cpu.toFixed(2)} µs/row`);
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`\nmedian of ${rounds} rounds, ${total} rows in batches of ${batch}:`);
  for (const [name, list] of results) {
    console.log(`${name.padEnd(26)} ${Math.round(median(list.map((r) => r.rate))).toLocaleString("en")} rows/s, node CPU ${median(list.map((r) => r.cpu)).toFixed(2)} µs/row`);
  }
  const [{ n }] = (await sql`SELECT count(*)::int AS n FROM llm_tracker_usage`) as unknown as [{ n: number }];
  console.log(`rows in table: ${n}`);
} finally {
  await sql.end();
  await db.drop();
}
