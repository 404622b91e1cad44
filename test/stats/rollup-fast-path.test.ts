// Proves which source each stats query reads: the rollup rows of a scratch
// database are tampered with, and the stats move exactly when (and only when)
// they were planned to read that bucket — whole days and hours from the rollup,
// whole five minutes from the five-minute buckets, hours cut by a local hour or
// midnight at :30 UTC from their half-hour buckets (by user, which has none,
// from their five-minute buckets) and at :45 from their five-minute buckets;
// only the edges from the raw rows.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getStatsOverTime, getSummaryStats } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Sql;

/** One row of 10 tokens at half past every UTC hour of May 1–3, 2026: 72 rows, 240 tokens a day. */
beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  await db`
    INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, success, metadata, created_at, cost_usd)
    SELECT gen_random_uuid(), 'u', 'm', 10, 0, 10, true, '{"node_name": "n"}', '2026-05-01T00:30:00Z'::timestamptz + h * interval '1 hour', 0.5
    FROM generate_series(0, 71) AS h`;
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

/** Adds `tokens` to one rollup row, as if the rollup said so; returns a function that takes it back. */
async function tamper(grain: "five_minutes" | "half_hour" | "hour" | "day", dimension: string, bucket: string, tokens: number): Promise<() => Promise<void>> {
  const change = (delta: number) => db`
    UPDATE llm_tracker_usage_rollup SET total_tokens = total_tokens + ${delta}, prompt_tokens = prompt_tokens + ${delta}
    WHERE grain = ${grain} AND dimension = ${dimension} AND bucket = ${bucket}::timestamptz`;
  expect((await change(tokens)).count).toBe(1);
  return async () => void (await change(-tokens));
}

const options = (timeZone = "UTC") => ({ db, timeZone });

describe("the stats' fast path", () => {
  it("reads whole UTC days from the day buckets: the total for the summary and by-day, the model dimension by model", async () => {
    expect((await getSummaryStats("2026-05-01", "2026-05-03", options())).total_tokens).toBe(720);
    const restoreTotal = await tamper("day", "total", "2026-05-02T00:00:00Z", 1000);
    const restore = await tamper("day", "model", "2026-05-02T00:00:00Z", 500);
    try {
      expect((await getSummaryStats("2026-05-01", "2026-05-03", options())).total_tokens).toBe(1720);
      expect((await getStatsByModel("2026-05-01", "2026-05-03", options()))[0]!.total_tokens).toBe(1220);
      expect(await getStatsByDay("2026-05-02", "2026-05-02", options())).toEqual([{ date: "2026-05-02", total_calls: 24, total_tokens: 1240, total_cost_usd: 12 }]);
      // by user and by node read their own dimensions, untouched here
      expect((await getStatsByUser("2026-05-01", "2026-05-03", options()))[0]!.total_tokens).toBe(720);
      expect((await getStatsByNode("2026-05-01", "2026-05-03", options()))[0]!.total_tokens).toBe(720);
    } finally {
      await restore();
      await restoreTotal();
    }
  });

  it("reads by-user and by-node from their dimensions", async () => {
    const restoreUser = await tamper("day", "user", "2026-05-02T00:00:00Z", 7);
    const restoreNode = await tamper("day", "node", "2026-05-02T00:00:00Z", 9);
    try {
      expect((await getStatsByUser("2026-05-01", "2026-05-03", options()))[0]!.total_tokens).toBe(727);
      expect((await getStatsByNode("2026-05-01", "2026-05-03", options()))[0]!.total_tokens).toBe(729);
      expect((await getSummaryStats("2026-05-01", "2026-05-03", options())).total_tokens).toBe(720);
    } finally {
      await restoreUser();
      await restoreNode();
    }
  });

  it("reads whole hours from hour buckets and sub-hour edges from the raw rows", async () => {
    const restore = await tamper("hour", "total", "2026-05-02T03:00:00Z", 100);
    try {
      // 02:10–05:50: whole hours 03:00–05:00 from buckets (the tampered one inside), edges raw.
      expect((await getSummaryStats("2026-05-02T02:10:00Z", "2026-05-02T05:50:00Z", options())).total_tokens).toBe(40 + 100);
      // 03:10–03:50 lies inside one hour: five-minute buckets and raw edges, the tampered hour is not read.
      expect((await getSummaryStats("2026-05-02T03:10:00Z", "2026-05-02T03:50:00Z", options())).total_tokens).toBe(10);
      // Shanghai days are built from hour buckets.
      const shanghai = await getStatsByDay("2026-05-02", "2026-05-02", options("Asia/Shanghai"));
      expect(shanghai).toEqual([{ date: "2026-05-02", total_calls: 24, total_tokens: 340, total_cost_usd: 12 }]);
    } finally {
      await restore();
    }
  });

  it("reads whole five minutes inside an hour from the five-minute buckets, and only the edges from the raw rows", async () => {
    const restore = await tamper("five_minutes", "total", "2026-05-02T03:30:00Z", 100);
    try {
      expect((await getSummaryStats("2026-05-02T03:10:00Z", "2026-05-02T03:50:00Z", options())).total_tokens).toBe(10 + 100);
      expect((await getSummaryStats("2026-05-02T03:29:59.5Z", "2026-05-02T03:35:00Z", options())).total_tokens).toBe(110);
      // 03:31–03:50: the 03:30 bucket is cut, its rows (the one at 03:30:00, outside) come from the raw table.
      expect((await getSummaryStats("2026-05-02T03:31:00Z", "2026-05-02T03:50:00Z", options())).total_tokens).toBe(0);
      // Whole hours around it come from the hour buckets, untouched.
      expect((await getSummaryStats("2026-05-02T02:10:00Z", "2026-05-02T05:50:00Z", options())).total_tokens).toBe(40);
    } finally {
      await restore();
    }
  });

  it("reads an hour that a local midnight cuts at :30 from its half-hour buckets, and one cut at :45 from its five-minute buckets", async () => {
    const restoreHalf = await tamper("half_hour", "total", "2026-05-01T18:30:00Z", 100);
    const restoreFive = await tamper("five_minutes", "total", "2026-05-01T18:30:00Z", 1000);
    try {
      // Kolkata's May 2 starts at 18:30Z on May 1, inside the 18:00Z hour: the 18:30Z half hour is May 2's first.
      const kolkata = await getStatsByDay("2026-05-01", "2026-05-02", options("Asia/Kolkata"));
      expect(kolkata.map((day) => day.total_tokens)).toEqual([180, 340]);
      // Kathmandu's May 2 starts at 18:15Z: the 18:30Z half hour is cut, its five-minute buckets are read.
      const kathmandu = await getStatsByDay("2026-05-01", "2026-05-02", options("Asia/Kathmandu"));
      expect(kathmandu.map((day) => day.total_tokens)).toEqual([180, 1240]);
      // Over time in day buckets, by model (the model rows untouched, the total rows tampered).
      const overTime = (timeZone: string, groupBy?: "model") =>
        getStatsOverTime("2026-05-01", "2026-05-02", { ...options(timeZone), bucket: "day", groupBy }).then((days) => days.map((day) => day.total_tokens));
      expect(await overTime("Asia/Kolkata")).toEqual([180, 340]);
      expect(await overTime("Asia/Kathmandu")).toEqual([180, 1240]);
      expect(await overTime("Asia/Kolkata", "model")).toEqual([180, 240]);
    } finally {
      await restoreFive();
      await restoreHalf();
    }
  });

  it("reads hourly buckets of a half-hour zone from the half-hour buckets, and of a :45 zone from the five-minute buckets", async () => {
    const restoreHalf = await tamper("half_hour", "model", "2026-05-02T03:30:00Z", 100);
    const restoreFive = await tamper("five_minutes", "model", "2026-05-02T03:30:00Z", 1000);
    try {
      const hours = async (timeZone: string) =>
        (await getStatsOverTime("2026-05-02T08:00:00", "2026-05-02T11:00:00", { ...options(timeZone), bucket: "hour", groupBy: "model" }))
          .map((hour) => [hour.bucket_start, hour.total_tokens]);
      // 03:30Z is 09:00 in Kolkata: that local hour holds the row at 03:30Z and the tampered half hour.
      expect(await hours("Asia/Kolkata")).toEqual([
        ["2026-05-02T08:00:00+05:30", 10],
        ["2026-05-02T09:00:00+05:30", 110],
        ["2026-05-02T10:00:00+05:30", 10],
      ]);
      // 03:30Z is 09:15 in Kathmandu: the 09:00 local hour holds the tampered five minutes.
      expect(await hours("Asia/Kathmandu")).toEqual([
        ["2026-05-02T08:00:00+05:45", 10],
        ["2026-05-02T09:00:00+05:45", 1010],
        ["2026-05-02T10:00:00+05:45", 10],
      ]);
    } finally {
      await restoreFive();
      await restoreHalf();
    }
  });

  it("reads a half-hour zone's cut hours by user (grouped or filtered) from the five-minute buckets: there are no user half hours", async () => {
    const [userHalfHours] = await db`SELECT count(*)::int AS n FROM llm_tracker_usage_rollup WHERE grain = 'half_hour' AND dimension = 'user'`;
    expect(userHalfHours!.n).toBe(0);
    const hourly = (extra: object) =>
      getStatsOverTime("2026-05-02T08:00:00", "2026-05-02T11:00:00", { ...options("Asia/Kolkata"), bucket: "hour", ...extra })
        .then((hours) => hours.map((hour) => [hour.bucket_start, hour.total_tokens]));
    const daily = (extra: object) =>
      getStatsOverTime("2026-05-01", "2026-05-02", { ...options("Asia/Kolkata"), bucket: "day", ...extra }).then((days) => days.map((day) => day.total_tokens));
    // The plain aggregation of the raw rows, untampered: one row of 10 tokens per hour.
    const reference = await db`
      SELECT to_char(date_trunc('hour', created_at AT TIME ZONE 'Asia/Kolkata'), 'YYYY-MM-DD"T"HH24') || ':00:00+05:30' AS bucket_start,
        sum(total_tokens)::int AS tokens
      FROM llm_tracker_usage
      WHERE created_at >= '2026-05-02T08:00:00'::timestamp AT TIME ZONE 'Asia/Kolkata' AND created_at < '2026-05-02T11:00:00'::timestamp AT TIME ZONE 'Asia/Kolkata'
      GROUP BY 1 ORDER BY 1`;
    const expected = reference.map((row) => [row.bucket_start, row.tokens]);
    expect(expected).toEqual([
      ["2026-05-02T08:00:00+05:30", 10],
      ["2026-05-02T09:00:00+05:30", 10],
      ["2026-05-02T10:00:00+05:30", 10],
    ]);
    expect(await hourly({ groupBy: "user" })).toEqual(expected);
    expect(await hourly({ filter: { userId: "u" } })).toEqual(expected);
    // 03:30Z is 09:00 in Kolkata; 18:30Z on May 1 is Kolkata's May 2 midnight.
    const restoreHour = await tamper("five_minutes", "user", "2026-05-02T03:30:00Z", 1000);
    const restoreDay = await tamper("five_minutes", "user", "2026-05-01T18:30:00Z", 100);
    try {
      const tampered = [
        ["2026-05-02T08:00:00+05:30", 10],
        ["2026-05-02T09:00:00+05:30", 1010],
        ["2026-05-02T10:00:00+05:30", 10],
      ];
      expect(await hourly({ groupBy: "user" })).toEqual(tampered);
      expect(await hourly({ filter: { userId: "u" } })).toEqual(tampered);
      expect(await daily({ groupBy: "user" })).toEqual([180, 340]);
      expect(await daily({ filter: { userId: "u" } })).toEqual([180, 340]);
      // By model the same hours come from the half-hour buckets, untouched.
      expect(await hourly({ groupBy: "model" })).toEqual(expected);
    } finally {
      await restoreDay();
      await restoreHour();
    }
    expect(await hourly({ groupBy: "user" })).toEqual(expected);
  });

  it("never reads an hour that a local midnight cuts from its hour bucket", async () => {
    // Kolkata's May 2 starts at 18:30Z on May 1, inside the 18:00Z hour.
    const restore = await tamper("hour", "total", "2026-05-01T18:00:00Z", 100);
    try {
      const kolkata = await getStatsByDay("2026-05-01", "2026-05-02", options("Asia/Kolkata"));
      expect(kolkata.map((day) => day.total_tokens)).toEqual([180, 240]);
      // The same bucket, read for Shanghai where it lies inside May 2 (02:00–03:00 local).
      const shanghai = await getStatsByDay("2026-05-02", "2026-05-02", options("Asia/Shanghai"));
      expect(shanghai[0]!.total_tokens).toBe(340);
    } finally {
      await restore();
    }
  });
});
