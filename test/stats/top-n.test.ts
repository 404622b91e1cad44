// getStatsByUser / getStatsByNode with a limit search the heads of the rollup's
// buckets for the top N (usage-sources.ts, topKeys) and sum every key only when
// the heads cannot prove the answer. Both paths must equal a plain aggregation
// with LIMIT: here on heavy-tailed users (the heads prove it), evenly spread
// ones (they may not), ties at the N-th place, and partial sums appended after
// a compaction (read beside the compacted heads).
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { parseDateRange } from "../../src/query/date-range.js";
import { getStatsByNode, getStatsByUser } from "../../src/stats/index.js";
import { topKeys } from "../../src/stats/usage-sources.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { isoMicros, random, type SeedRow } from "./support/random-usage.js";
import { randomCases, type Case } from "./support/reference-stats.js";

const FIRST_US = Date.UTC(2026, 2, 5) * 1000;
const SPAN_US = 34 * 86_400_000_000;
const n = (value: unknown) => Number(value);

let database: TestDatabase;
let db: Sql;
const rand = random(20261202);

/** `count` rows over the test span; user k drawn as ⌊users · r^skew⌋ (skew 1: even), node likewise over 12. */
function rows(count: number, users: number, skew: number): SeedRow[] {
  return Array.from({ length: count }, () => {
    const prompt = Math.floor(rand() * 3000);
    const completion = Math.floor(rand() * 800);
    const user = Math.floor(users * rand() ** skew);
    return {
      id: crypto.randomUUID(),
      user_id: rand() < 0.02 ? null : `u${user}`,
      model: "m",
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_tokens: 0,
      reasoning_tokens: 0,
      success: rand() > 0.1,
      error: null,
      metadata: (rand() < 0.05 ? {} : { node_name: `n${Math.floor(12 * rand() ** skew)}` }) as Record<string, string>,
      created_at: isoMicros(FIRST_US + Math.floor(rand() * SPAN_US)),
      cost_usd: (rand() / 10).toFixed(10),
      latency_ms: Math.floor(rand() * 5000),
      streamed: false,
      time_to_first_token_ms: null,
    };
  });
}

const insert = async (batch: SeedRow[]) => {
  for (let i = 0; i < batch.length; i += 1000) await db`INSERT INTO llm_tracker_usage ${db(batch.slice(i, i + 1000))} ON CONFLICT DO NOTHING`;
};

async function referenceTop(c: Case, column: "user_id" | "node_name", limit: number) {
  const rowsFound = await db`
    SELECT ${db(column)}, count(*) AS total_calls, coalesce(sum(prompt_tokens), 0) AS total_prompt_tokens,
      coalesce(sum(completion_tokens), 0) AS total_completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
      round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd, coalesce(round(avg(latency_ms), 3), 0)::float8 AS avg_latency_ms,
      coalesce(round(avg(time_to_first_token_ms), 3), 0)::float8 AS avg_time_to_first_token_ms
    FROM (SELECT metadata->>'node_name' AS node_name, * FROM llm_tracker_usage WHERE ${c.where(db)}) AS u
    GROUP BY 1 ORDER BY total_tokens DESC, ${db(column)} COLLATE "C" NULLS LAST LIMIT ${limit}`;
  return rowsFound.map((row) => ({
    [column]: row[column],
    total_calls: n(row.total_calls),
    total_prompt_tokens: n(row.total_prompt_tokens),
    total_completion_tokens: n(row.total_completion_tokens),
    total_tokens: n(row.total_tokens),
    total_cost_usd: n(row.total_cost_usd),
    avg_latency_ms: n(row.avg_latency_ms),
    avg_time_to_first_token_ms: n(row.avg_time_to_first_token_ms),
  }));
}

async function expectTopExact(cases: Case[], limits: number[]): Promise<void> {
  for (const c of cases) {
    for (const limit of limits) {
      const label = JSON.stringify({ zone: c.zone, start: c.start, end: c.end, limit });
      expect(await getStatsByUser(c.start, c.end, { db, timeZone: c.zone, limit }), label).toEqual(await referenceTop(c, "user_id", limit));
      expect(await getStatsByNode(c.start, c.end, { db, timeZone: c.zone, limit }), label).toEqual(await referenceTop(c, "node_name", limit));
    }
  }
}

/** Whether the heads alone prove the top `limit` users of [start, end) in `zone`. */
async function headsProve(start: string, end: string, zone: string, limit: number): Promise<boolean> {
  const range = parseDateRange(start, end, zone);
  const found = await db`${topKeys(db, range, "user", "user_id", limit, Math.max(20, 4 * limit))}`;
  const last = found[limit - 1];
  return last !== undefined && n(last.total_tokens) > n(last.bound);
}

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {}, fetch_types: false });
  // Heavy-tailed: u0 makes a fifth of the calls, 2,000 users in all.
  await insert(rows(8000, 2000, 4));
  await db`SELECT llm_tracker_usage_rollup_compact()`;
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("the top N users and nodes", () => {
  it("are proven from the bucket heads on heavy-tailed traffic, edges at arbitrary seconds and in Kolkata", async () => {
    expect(await headsProve("2026-03-10T07:13:29.5", "2026-03-30T17:47:03", "Asia/Kolkata", 3)).toBe(true);
    expect(await headsProve("2026-03-12T23:59:59.999", "2026-03-13T23:59:59.999", "UTC", 1)).toBe(true);
  });

  it("equal a plain aggregation with LIMIT for random ranges in six zones", async () => {
    await expectTopExact(randomCases(rand, 2), [1, 3, 10]);
  });

  it("stay exact with partial sums appended after the compaction, evenly spread users and ties at the N-th place", async () => {
    // Appended after the compaction: read beside the compacted heads.
    await insert(rows(1500, 400, 1));
    // Three users with the same tokens in the same buckets: the N-th place is a tie broken by id.
    const tied = ["t-b", "t-a", "t-c"].flatMap((user) =>
      [0, 1, 2].map((i) => ({ ...rows(1, 1, 1)[0]!, user_id: user, prompt_tokens: 40_000, completion_tokens: 0, total_tokens: 40_000,
        created_at: isoMicros(Date.UTC(2026, 2, 20, 10, 3 + i * 20, 7) * 1000 + 123) })),
    );
    await insert(tied);
    const tieCase: Case = {
      zone: "UTC",
      start: "2026-03-20T10:00:00",
      end: "2026-03-20T11:00:00",
      where: (sql) => sql`created_at >= '2026-03-20T10:00:00Z' AND created_at < '2026-03-20T11:00:00Z'`,
    };
    expect((await getStatsByUser(tieCase.start, tieCase.end, { db, limit: 2 })).map((row) => row.user_id)).toEqual(["t-a", "t-b"]);
    await expectTopExact([tieCase], [1, 2, 3]);
    await expectTopExact(randomCases(rand, 1), [2, 5]);
    await db`SELECT llm_tracker_usage_rollup_compact()`;
    await expectTopExact([tieCase], [1, 2]);
    await expectTopExact(randomCases(rand, 1), [3]);
  });
});
