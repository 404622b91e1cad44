// The settings every stats statement runs under (runStatsQuery): JIT off and
// custom plans only, local to the stats call's own transaction, never left on
// a pooled connection, and never imposed on a caller's transaction.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDateRange } from "../../src/query/date-range.js";
import { runStatsQuery } from "../../src/query/query-sql.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let sql: postgres.Sql;
const range = parseDateRange("2026-03-01", "2026-03-02", "UTC");
const settingsNow = (q: postgres.Sql) =>
  q`SELECT current_setting('jit') AS jit, current_setting('plan_cache_mode') AS plan_cache_mode`.then(([row]) => ({ ...row }));

beforeAll(async () => {
  database = await createTestDatabase("llmt_stats_settings");
  // One connection: what a stats call leaves behind, the next statement would meet.
  sql = postgres(database.url, { max: 1, onnotice: () => {}, fetch_types: false });
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe("runStatsQuery", () => {
  it("runs its statements with JIT off and custom plans only, and leaves the connection as it was", async () => {
    const before = await settingsNow(sql);
    expect(before.plan_cache_mode).toBe("auto");
    expect(await runStatsQuery(sql, range, settingsNow)).toEqual({ jit: "off", plan_cache_mode: "force_custom_plan" });
    expect(await settingsNow(sql)).toEqual(before);
  });

  it("leaves a caller's own transaction as the caller set it", async () => {
    const inside = await sql.begin(async (tx) => {
      await tx`SET LOCAL plan_cache_mode = force_generic_plan`;
      return runStatsQuery(tx as unknown as postgres.Sql, range, settingsNow);
    });
    expect(inside.plan_cache_mode).toBe("force_generic_plan");
  });
});
