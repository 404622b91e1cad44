// drizzle/0008: rollup compactions serialize on an advisory lock (two at once could leave
// a key with two compacted rows, which no later pass merged and the top-N search would
// misread), and a key already split that way is merged again after the upgrade.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { compactRollup } from "../../src/db/rollup-compaction.js";
import { migrateUntil } from "../support/migrate-until.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { waitFor } from "../support/usage-events.js";

/** The lock llm_tracker_usage_rollup_compact takes (drizzle/0008). */
const COMPACTION_LOCK = 7146385203;

let database: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 4, onnotice: () => {}, fetch_types: false });
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

/** One rollup row of user `key` in the day bucket of 2026-03-01, as a compaction or a trigger leaves it. */
function rollupRow(key: string, tokens: number, compacted: boolean) {
  return sql`INSERT INTO llm_tracker_usage_rollup (grain, dimension, bucket, key_is_null, key, calls, successful_calls,
      prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
      latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls, compacted)
    VALUES ('day', 'user', '2026-03-01T00:00:00Z', false, ${key}, 1, 1, ${tokens}, 0, ${tokens}, 0, 0, 0, 0, 0, 0, 0, 0, ${compacted})`;
}

const rowsOf = (key: string) =>
  sql<{ n: number; tokens: number }[]>`SELECT count(*)::int AS n, sum(total_tokens)::int AS tokens FROM llm_tracker_usage_rollup WHERE key = ${key}`;

describe("serialized rollup compaction (drizzle/0008)", () => {
  it("merges a key an earlier race left with two compacted rows, once the upgrade has run", async () => {
    await migrateUntil(database.url, "0007_partition_usage_by_day");
    await rollupRow("split-user", 100, true);
    await rollupRow("split-user", 250, true);
    await compactRollup(sql); // the old function: a key without an uncompacted row is never looked at
    expect((await rowsOf("split-user"))[0]).toEqual({ n: 2, tokens: 350 });

    await runMigrations(database.url);
    await compactRollup(sql);
    expect((await rowsOf("split-user"))[0]).toEqual({ n: 1, tokens: 350 });
    const [row] = await sql<{ compacted: boolean }[]>`SELECT compacted FROM llm_tracker_usage_rollup WHERE key = 'split-user'`;
    expect(row!.compacted).toBe(true);
  });

  it("waits for a compaction already running instead of merging beside it", async () => {
    await rollupRow("waiting-user", 10, true);
    await rollupRow("waiting-user", 5, false);
    const holder = await sql.reserve();
    try {
      await holder`SELECT pg_advisory_lock(${COMPACTION_LOCK})`; // as a compaction in another worker would hold it
      let settled = false;
      const compaction = compactRollup(sql).finally(() => (settled = true));
      await waitFor(async () => {
        const [waiting] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'
            AND query LIKE '%llm_tracker_usage_rollup_compact%'`;
        return waiting!.n === 1;
      }, 10_000, "the compaction waiting on the advisory lock");
      expect(settled).toBe(false);
      expect((await rowsOf("waiting-user"))[0]).toEqual({ n: 2, tokens: 15 });
      await holder`SELECT pg_advisory_unlock(${COMPACTION_LOCK})`;
      await compaction;
      expect((await rowsOf("waiting-user"))[0]).toEqual({ n: 1, tokens: 15 });
    } finally {
      holder.release();
    }
  });
});
