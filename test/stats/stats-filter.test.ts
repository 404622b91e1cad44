// options.filter: every stats function, narrowed to one user, node or model (or
// two at once), equals the plain aggregation over the raw rows with the same
// WHERE, for random ranges and zones; filters on the grouped dimension read the
// rollup, the others the raw rows; malformed filters are refused by name.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { InvalidInputError } from "../../src/errors/invalid-input-error.js";
import { getStatsByDay, getStatsByModel, getStatsByUser, getSummaryStats, type StatsFilter } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { random, seedRows } from "./support/random-usage.js";
import { randomCases, reference, stats, type Case } from "./support/reference-stats.js";

/** Each filter beside the WHERE a reader of the contract would write for it. */
const FILTERS: [StatsFilter, (db: Sql) => ReturnType<Sql>][] = [
  [{ userId: "u1" }, (db) => db`user_id = 'u1'`],
  [{ userId: "" }, (db) => db`user_id = ''`],
  [{ userId: null }, (db) => db`user_id IS NULL`],
  [{ nodeName: "plan" }, (db) => db`metadata->>'node_name' = 'plan'`],
  [{ nodeName: "" }, (db) => db`metadata->>'node_name' = ''`],
  [{ nodeName: null }, (db) => db`metadata->>'node_name' IS NULL`],
  [{ model: "o3" }, (db) => db`model = 'o3'`],
  [{ userId: "u2", model: "gpt-4o" }, (db) => db`user_id = 'u2' AND model = 'gpt-4o'`],
  [{ userId: null, nodeName: null }, (db) => db`user_id IS NULL AND metadata->>'node_name' IS NULL`],
  [{ userId: "nobody" }, (db) => db`false`],
  [{ userId: undefined }, (db) => db`true`],
];

let database: TestDatabase;
let db: Sql;
const rand = random(20260413);

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  const rows = seedRows(rand, 3000);
  for (let i = 0; i < rows.length; i += 1000) await db`INSERT INTO llm_tracker_usage ${db(rows.slice(i, i + 1000))}`;
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

async function expectFilteredExact(cases: Case[]): Promise<void> {
  for (const c of cases) {
    for (const [filter, where] of FILTERS) {
      const label = JSON.stringify({ zone: c.zone, start: c.start, end: c.end, filter });
      const filtered: Case = { ...c, where: (sql) => sql`${c.where(sql)} AND ${where(sql)}` };
      expect(await stats(db, c, filter), label).toEqual(await reference(db, filtered));
    }
  }
}

describe("stats with options.filter", () => {
  it("equal the plain aggregation with the same WHERE for random ranges in six zones", async () => {
    await expectFilteredExact(randomCases(rand, 2));
  });

  it("equal it over the whole table and over whole local days", async () => {
    await expectFilteredExact([
      { zone: "UTC", start: undefined, end: undefined, where: (sql) => sql`true` },
      {
        zone: "Asia/Kathmandu",
        start: "2026-03-06",
        end: "2026-03-20",
        where: (sql) => sql`created_at >= '2026-03-06T00:00:00+05:45' AND created_at < '2026-03-21T00:00:00+05:45'`,
      },
    ]);
  });

  it("read the rollup of the filtered dimension when the query groups by it or not at all, the raw rows otherwise", async () => {
    // Tampering with u1's day bucket moves exactly the figures planned to read it.
    const range = ["2026-03-10", "2026-03-10"] as const;
    const options = { db, filter: { userId: "u1" } };
    const before = {
      summary: await getSummaryStats(...range, options),
      byUser: await getStatsByUser(...range, options),
      byModel: await getStatsByModel(...range, options),
      byDay: await getStatsByDay(...range, options),
    };
    expect(before.summary.total_calls).toBeGreaterThan(0);
    const change = (delta: number) => db`
      UPDATE llm_tracker_usage_rollup SET total_tokens = total_tokens + ${delta}
      WHERE ctid = (SELECT ctid FROM llm_tracker_usage_rollup WHERE grain = 'day' AND dimension = 'user'
        AND bucket = '2026-03-10T00:00:00Z' AND NOT key_is_null AND key = 'u1' LIMIT 1)`;
    expect((await change(1000)).count).toBe(1);
    try {
      expect((await getSummaryStats(...range, options)).total_tokens).toBe(before.summary.total_tokens + 1000);
      expect((await getStatsByUser(...range, options))[0]!.total_tokens).toBe(before.byUser[0]!.total_tokens + 1000);
      expect((await getStatsByDay(...range, options))[0]!.total_tokens).toBe(before.byDay[0]!.total_tokens + 1000);
      // u1's calls per model are not in the rollup (it groups by one dimension at a time).
      expect(await getStatsByModel(...range, options)).toEqual(before.byModel);
    } finally {
      await change(-1000);
    }
  });

  it("refuse a malformed filter, naming the key, before any query", async () => {
    const bad: [unknown, string][] = [
      ["u1", "options.filter"],
      [["u1"], "options.filter"],
      [{ userId: 5 }, "options.filter.userId"],
      [{ nodeName: {} }, "options.filter.nodeName"],
      [{ model: null }, "options.filter.model"],
      [{ team: "a" }, "options.filter.team"],
    ];
    for (const [filter, argument] of bad) {
      const error = await getSummaryStats(undefined, undefined, { db, filter: filter as StatsFilter }).catch((e: unknown) => e);
      expect(error, JSON.stringify(filter)).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).argument).toBe(argument);
    }
  });
});
