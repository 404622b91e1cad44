// Compaction merges the rollup's partial sums without ever changing a total,
// also while writers keep appending and another compaction runs beside it.
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { compactRollup, startRollupCompaction } from "../../src/db/rollup-compaction.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  sql = postgres(database.url, { max: 6, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

/** One statement of `count` rows in the current hour: 30 users, 4 models, 3 nodes. */
function insertStatement(count: number) {
  return sql`
    INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, success, metadata, created_at, cost_usd)
    SELECT gen_random_uuid(), 'u' || (i % 30), 'm' || (i % 4), i, 1, i + 1, i % 9 <> 0,
           jsonb_build_object('node_name', 'n' || (i % 3)), now() - (i % 50) * interval '1 second', 0.0000015
    FROM generate_series(1, ${count}) AS i`;
}

/** Rollup totals per dimension and grain, as numbers of calls / tokens / cost. */
async function rollupTotals() {
  return sql`SELECT grain, dimension, sum(calls)::int8 AS calls, sum(total_tokens)::int8 AS tokens, sum(cost_usd)::text AS cost
    FROM llm_tracker_usage_rollup GROUP BY 1, 2 ORDER BY 1, 2`;
}

async function rawTotals() {
  const [row] = await sql`SELECT count(*)::int8 AS calls, sum(total_tokens)::int8 AS tokens, sum(cost_usd)::text AS cost FROM llm_tracker_usage`;
  return row!;
}

it("keeps every total while statements append and two compactions run concurrently", async () => {
  let writing = true;
  const writers = Promise.all(
    [0, 1].map(async () => {
      for (let i = 0; i < 25 && writing; i += 1) await insertStatement(200);
    }),
  );
  const compactors = Promise.all(
    [0, 1].map(async () => {
      for (let i = 0; i < 10; i += 1) await compactRollup(sql);
    }),
  );
  await Promise.all([writers, compactors]);
  writing = false;

  const raw = await rawTotals();
  for (const total of await rollupTotals()) {
    expect({ calls: total.calls, tokens: total.tokens, cost: total.cost }, `${total.grain}/${total.dimension}`).toEqual(raw);
  }
  await compactRollup(sql);
  const [split] = await sql`SELECT count(*)::int AS n FROM (
    SELECT 1 FROM llm_tracker_usage_rollup GROUP BY grain, dimension, bucket, key_is_null, key HAVING count(*) > 1) AS k`;
  expect(split!.n).toBe(0);
  for (const total of await rollupTotals()) expect({ calls: total.calls, tokens: total.tokens, cost: total.cost }).toEqual(raw);
});

it("drops keys that deletes left at zero", async () => {
  await sql`DELETE FROM llm_tracker_usage WHERE user_id = 'u7'`;
  await compactRollup(sql);
  const [left] = await sql`SELECT count(*)::int AS n FROM llm_tracker_usage_rollup WHERE dimension = 'user' AND key = 'u7'`;
  expect(left!.n).toBe(0);
});

it("compacts on a timer and stops cleanly", async () => {
  await insertStatement(50);
  await insertStatement(50);
  const compaction = startRollupCompaction({ sql, intervalMs: 20, logger: createLogger("silent") });
  const deadline = Date.now() + 10_000;
  let split = 1;
  while (split > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [row] = await sql`SELECT count(*)::int AS n FROM (
      SELECT 1 FROM llm_tracker_usage_rollup GROUP BY grain, dimension, bucket, key_is_null, key HAVING count(*) > 1) AS k`;
    split = row!.n;
  }
  await compaction.stop();
  await compaction.stop();
  expect(split).toBe(0);
});
