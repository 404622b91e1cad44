// getStatsOverTime against a plain aggregation of the raw rows (written below,
// independent of src/stats: buckets named by Postgres's own to_char in the
// zone, listed from a minute-by-minute walk over the range) for random ranges
// in zones with DST switches, :30 / :45 offsets and a half-hour DST, with and
// without groupBy and limit; then hand-checked DST days, and bad arguments.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { InvalidInputError } from "../../src/errors/invalid-input-error.js";
import { getStatsOverTime, type OverTimeOptions, type StatsFilter } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

/** mulberry32: a small deterministic generator, so a failure replays exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "America/Santiago"];
const MODELS = ["gpt-4o", "gpt-4o-mini", "gemini-2.5-flash", "o3"];
const USERS = ["u1", "u2", "u3", "u4", "", null];
const NODES = ["interpret", "summarize", "", null];
const DAY_US = 86_400_000_000;
const QUARTER_US = 900_000_000;

// Three clusters of rows, each around DST switches: New York springs forward on
// March 8; Lord Howe falls back half an hour on April 5; Santiago springs
// forward at midnight on September 6 (the day starts at 01:00); London falls
// back on October 25 and New York on November 1.
const CLUSTERS = [
  { from: Date.UTC(2026, 2, 5), days: 6 },
  { from: Date.UTC(2026, 3, 2), days: 6 },
  { from: Date.UTC(2026, 8, 3), days: 6 },
  { from: Date.UTC(2026, 9, 23), days: 11 },
].map((c) => ({ fromUs: c.from * 1000, spanUs: c.days * DAY_US }));

function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${String(us % 1_000_000).padStart(6, "0")}Z`);
}

function seedRows(rand: () => number, count: number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  return Array.from({ length: count }, () => {
    const cluster = pick(CLUSTERS);
    let us = cluster.fromUs + Math.floor(rand() * cluster.spanUs);
    // A third sit within a microsecond of a quarter hour, where zones' hours and days begin.
    if (rand() < 0.33) us = us - (us % QUARTER_US) + pick([-1, 0, 1]);
    const prompt = Math.floor(rand() * 3000);
    const completion = Math.floor(rand() * 800);
    const success = rand() > 0.15;
    const node = pick(NODES);
    const latency = rand() < 0.1 ? null : Math.floor(rand() * 20_000);
    const streamed = rand() < 0.4;
    return {
      id: crypto.randomUUID(),
      user_id: pick(USERS),
      model: pick(MODELS),
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_tokens: 0,
      reasoning_tokens: 0,
      success,
      error: success ? null : "provider said no",
      metadata: node === null ? { source_type: "task" } : { node_name: node },
      created_at: isoMicros(us),
      cost_usd: rand() < 0.2 ? null : (rand() / 10).toFixed(10),
      latency_ms: latency,
      streamed,
      time_to_first_token_ms: streamed && latency !== null ? Math.floor(latency * rand()) : null,
    };
  });
}

/** Filters the rollup answers (one key) and ones it does not (two keys), null keys included. */
const FILTERS: StatsFilter[] = [{ userId: "u1" }, { userId: null }, { nodeName: "interpret" }, { nodeName: null }, { model: "o3" }, { userId: "u2", model: "gpt-4o" }];

interface Case {
  start: string;
  end: string;
  options: OverTimeOptions;
}

/** A range inside or across a cluster's edges, bounds as wall-clock, offset or Z text with odd seconds. */
function randomCase(rand: () => number, db: Sql): Case {
  const cluster = CLUSTERS[Math.floor(rand() * CLUSTERS.length)]!;
  const a = cluster.fromUs - DAY_US + Math.floor(rand() * (cluster.spanUs + 2 * DAY_US));
  const b = a + Math.floor(rand() * (rand() < 0.5 ? 2 * DAY_US : 9 * DAY_US));
  const text = (us: number) => {
    const iso = isoMicros(us);
    const form = rand();
    if (form < 0.3) return iso.slice(0, 19); // wall clock in the zone
    if (form < 0.5) return iso.slice(0, 10); // a date alone
    if (form < 0.8) return iso;
    return `${iso.slice(0, 19)}${["+08:00", "-04:30", "+05:45"][Math.floor(rand() * 3)]}`;
  };
  const groupBy = ([undefined, "model", "user", "node"] as const)[Math.floor(rand() * 4)];
  const limit = groupBy && rand() < 0.4 ? 1 + Math.floor(rand() * 3) : undefined;
  const filter = rand() < 0.3 ? FILTERS[Math.floor(rand() * FILTERS.length)] : undefined;
  return {
    start: text(a),
    end: text(b),
    options: { db, bucket: rand() < 0.5 ? "hour" : "day", timeZone: ZONES[Math.floor(rand() * ZONES.length)]!, groupBy, limit, filter },
  };
}

const n = (value: unknown) => Number(value);
const KEY = { model: "model", user: "user_id", node: "node_name" } as const;

/**
 * The reference: raw rows grouped by Postgres's own reading of the hour or date
 * in the zone (session time zone set to it), every bucket the range touches
 * found by walking it minute by minute, zero-filled, series ranked by tokens.
 */
async function reference(db: Sql, c: Case) {
  const { bucket, timeZone, groupBy, limit, filter = {} } = c.options;
  const zone = timeZone!;
  return db.begin(async (tx) => {
    await tx`SELECT set_config('TimeZone', ${zone}, true)`;
    // A bound as the contract reads it: a date alone is local midnight (the next one as an end).
    const bound = (value: string, side: "start" | "end") =>
      value.length === 10
        ? side === "start"
          ? tx`${value}::text::date::timestamp::timestamptz`
          : tx`(${value}::text::date + 1)::timestamp::timestamptz`
        : // As text: postgres.js would read a parameter typed timestamptz through a JS Date, in the host's zone.
          tx`${value}::text::timestamptz`;
    // Text and timestamptz read in the session zone, so this is Postgres's own idea of the local hour or day.
    const label =
      bucket === "hour" ? tx`to_char(t, 'YYYY-MM-DD"T"HH24:00:00TZH:TZM')` : tx`to_char(t, 'YYYY-MM-DD')`;
    const buckets = await tx`
      WITH walk AS (
        SELECT t, t >= lo AND t < hi AS inside FROM (SELECT ${bound(c.start, "start")} AS lo, ${bound(c.end, "end")} AS hi) AS r,
        generate_series(date_trunc('minute', lo) - interval '2 days', hi, interval '1 minute') AS t
        UNION ALL SELECT lo, lo < hi FROM (SELECT ${bound(c.start, "start")} AS lo, ${bound(c.end, "end")} AS hi) AS r
      )
      SELECT ${label} AS name, min(t) AS first_instant, to_char(min(t), 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS first_text
      FROM walk GROUP BY 1 HAVING bool_or(inside) ORDER BY min(t)`;
    const is = (column: ReturnType<Sql>, value: string | null | undefined) =>
      value === undefined ? tx`` : value === null ? tx`AND ${column} IS NULL` : tx`AND ${column} = ${value}`;
    const where = tx`created_at >= ${bound(c.start, "start")} AND created_at < ${bound(c.end, "end")}
      ${is(tx`user_id`, filter.userId)} ${is(tx`(metadata->>'node_name')`, filter.nodeName)} ${is(tx`model`, filter.model)}`;
    const rowLabel = bucket === "hour" ? tx`to_char(created_at, 'YYYY-MM-DD"T"HH24:00:00TZH:TZM')` : tx`to_char(created_at, 'YYYY-MM-DD')`;
    const keyColumn = groupBy === "node" ? tx`(metadata->>'node_name')` : groupBy === "user" ? tx`user_id` : groupBy === "model" ? tx`model` : tx`NULL::text`;
    const cells = await tx`
      SELECT ${rowLabel} AS name, ${keyColumn} AS key, count(*) AS calls, count(*) FILTER (WHERE success) AS ok,
        sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion, sum(total_tokens) AS tokens,
        round(coalesce(sum(cost_usd), 0), 6)::float8 AS cost, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced,
        coalesce(round(avg(latency_ms), 3), 0)::float8 AS latency, coalesce(round(avg(time_to_first_token_ms), 3), 0)::float8 AS ttft
      FROM llm_tracker_usage WHERE ${where} GROUP BY 1, 2`;
    const keys = groupBy
      ? (
          await tx`SELECT ${keyColumn} AS key FROM llm_tracker_usage WHERE ${where}
            GROUP BY 1 ORDER BY sum(total_tokens) DESC, ${keyColumn} COLLATE "C" NULLS LAST ${limit ? tx`LIMIT ${limit}` : tx``}`
        ).map((row) => row.key as string | null)
      : [null];
    const byCell = new Map(cells.map((cell) => [`${cell.name as string}|${String(cell.key)}`, cell]));
    return buckets.flatMap((b) =>
      keys.map((key) => {
        // An hour is named as its rows read it; a day by its first instant.
        const cell = byCell.get(`${b.name as string}|${String(key)}`);
        return {
          bucket_start: bucket === "hour" ? (b.name as string) : (b.first_text as string),
          ...(groupBy ? { [KEY[groupBy]]: key } : {}),
          total_calls: n(cell?.calls ?? 0),
          successful_calls: n(cell?.ok ?? 0),
          failed_calls: n(cell?.calls ?? 0) - n(cell?.ok ?? 0),
          total_prompt_tokens: n(cell?.prompt ?? 0),
          total_completion_tokens: n(cell?.completion ?? 0),
          total_tokens: n(cell?.tokens ?? 0),
          total_cost_usd: n(cell?.cost ?? 0),
          unpriced_calls: n(cell?.unpriced ?? 0),
          avg_latency_ms: n(cell?.latency ?? 0),
          avg_time_to_first_token_ms: n(cell?.ttft ?? 0),
        };
      }),
    );
  });
}

async function expectExact(db: Sql, cases: Case[]): Promise<void> {
  for (const c of cases) {
    const { db: _db, ...shown } = c.options;
    const label = JSON.stringify({ start: c.start, end: c.end, ...shown });
    expect(await getStatsOverTime(c.start, c.end, c.options), label).toEqual(await reference(db, c));
  }
}

let database: TestDatabase;
let db: Sql;
const rand = random(20261101);

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  const rows = seedRows(rand, 8000);
  // Several statements, so the rollup holds several partial sums per key.
  for (let i = 0; i < rows.length; i += 1000) await db`INSERT INTO llm_tracker_usage ${db(rows.slice(i, i + 1000))}`;
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("getStatsOverTime", () => {
  it("equals the plain aggregation for random ranges, zones, buckets, groupings and limits", async () => {
    await expectExact(db, Array.from({ length: 70 }, () => randomCase(rand, db)));
  });

  it("equals the plain aggregation for hours and days in :30 and :45 zones over days, edges at odd seconds", async () => {
    // Every UTC hour is cut by a local hour in these zones, so every hour of the range is read from its half-hour rows
    // (Kolkata; Adelaide and St John's outside their DST switches, which fall in the March and April clusters) or its
    // five-minute rows (Kathmandu; and in every zone by user, grouped or filtered: the rollup has no user half hours).
    const cases: Case[] = ["Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "America/St_Johns"].flatMap((timeZone) =>
      (["hour", "day"] as const).flatMap((bucket) => [
        { start: "2026-03-05T07:13:29.5Z", end: "2026-03-10T17:47:03Z", options: { db, bucket, timeZone } },
        { start: "2026-10-23T00:29:59", end: "2026-10-31T23:44:01.000001", options: { db, bucket, timeZone, groupBy: "user" } },
        { start: "2026-04-02T11:15:07+05:45", end: "2026-04-07T02:30:00.999999Z", options: { db, bucket, timeZone, groupBy: "model", limit: 2 } },
        { start: "2026-09-03T18:31:01Z", end: "2026-09-08T06:14:59Z", options: { db, bucket, timeZone, filter: { nodeName: "interpret" } } },
        { start: "2026-09-03T18:31:01Z", end: "2026-09-08T06:14:59Z", options: { db, bucket, timeZone, filter: { userId: "u1" } } },
      ]),
    );
    await expectExact(db, cases);
  });

  it("equals the plain aggregation across a DST switch in the middle of a UTC hour (Adelaide, April 5)", async () => {
    // Adelaide falls back from +10:30 to +09:30 at 16:30 UTC: that hour changes offset midway.
    const cases: Case[] = (["hour", "day"] as const).flatMap((bucket) => [
      { start: "2026-04-02T09:41:17.25", end: "2026-04-07T20:03:44", options: { db, bucket, timeZone: "Australia/Adelaide" } },
      { start: "2026-04-04T16:29:59Z", end: "2026-04-04T18:30:00.5Z", options: { db, bucket, timeZone: "Australia/Adelaide", groupBy: "user" } },
    ]);
    await expectExact(db, cases);
  });

  it("equals the plain aggregation where an offset in seconds cuts five-minute buckets (Monrovia until its 1972 switch)", async () => {
    // Until 1972-01-07 00:44:30Z Monrovia kept -0:44:30: its hours begin at :44:30 UTC, inside a
    // five-minute bucket, so those buckets are read from the raw rows, and the hour of the switch
    // changes offset midway. Rows spread over four days, a third within a microsecond of :44:30.
    // (The reference walks minutes from the start's local minute, here at :30 seconds UTC: each range
    // takes at least 30 s of its last bucket, or the walk would not list it.)
    const from = Date.UTC(1972, 0, 5) * 1000;
    const rows = seedRows(rand, 600).map((row) => {
      let us = from + Math.floor(rand() * 4 * DAY_US);
      if (rand() < 0.33) us = us - (us % 3_600_000_000) + 2_670_000_000 + [-1, 0, 1][Math.floor(rand() * 3)]!;
      return { ...row, created_at: isoMicros(us) };
    });
    await db`INSERT INTO llm_tracker_usage ${db(rows)}`;
    // Days only before the switch: after it, the walk's :30 seconds would name a day by 00:00:30.
    const timeZone = "Africa/Monrovia";
    const cases: Case[] = [
      { start: "1972-01-05T03:17:43.5", end: "1972-01-08T21:02:11", options: { db, bucket: "hour", timeZone } },
      { start: "1972-01-06T00:00:00Z", end: "1972-01-07T12:00:31.000001Z", options: { db, bucket: "hour", timeZone, groupBy: "model" } },
      { start: "1972-01-05T03:17:43.5", end: "1972-01-06T21:02:11", options: { db, bucket: "day", timeZone } },
      { start: "1972-01-05T00:00:00Z", end: "1972-01-06T23:44:59.999999Z", options: { db, bucket: "day", timeZone, groupBy: "model" } },
    ];
    for (const c of cases) {
      // The reference names buckets with to_char's TZH:TZM, which drops the offset's seconds;
      // getStatsOverTime writes them (-00:44:30), as documented.
      const result = (await getStatsOverTime(c.start, c.end, c.options)).map((entry) => ({
        ...entry,
        bucket_start: entry.bucket_start.replace(/-00:44:30$/, "-00:44"),
      }));
      expect(result, JSON.stringify({ start: c.start, end: c.end, bucket: c.options.bucket, groupBy: c.options.groupBy })).toEqual(await reference(db, c));
    }
  });

  it("stays exact after rows are moved, re-keyed and deleted, and after compaction", async () => {
    await db`UPDATE llm_tracker_usage SET created_at = created_at + interval '3 hours 17 minutes', model = 'moved' WHERE user_id = 'u2'`;
    await db`DELETE FROM llm_tracker_usage WHERE user_id = 'u3'`;
    await expectExact(db, Array.from({ length: 12 }, () => randomCase(rand, db)));
    await db`SELECT llm_tracker_usage_rollup_compact()`;
    await expectExact(db, Array.from({ length: 12 }, () => randomCase(rand, db)));
  });

  it("has 23 hours on New York's spring-forward day and 25 on its fall-back day", async () => {
    const spring = await getStatsOverTime("2026-03-08", "2026-03-08", { db, bucket: "hour", timeZone: "America/New_York" });
    expect(spring).toHaveLength(23);
    expect(spring.slice(1, 3).map((b) => b.bucket_start)).toEqual(["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]);
    const fall = await getStatsOverTime("2026-11-01", "2026-11-01", { db, bucket: "hour", timeZone: "America/New_York" });
    expect(fall).toHaveLength(25);
    expect(fall.slice(1, 3).map((b) => b.bucket_start)).toEqual(["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"]);
    const days = await getStatsOverTime("2026-03-07", "2026-03-09", { db, bucket: "day", timeZone: "America/New_York" });
    expect(days.map((b) => b.bucket_start)).toEqual(["2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"]);
  });

  it("names a day by its first instant where midnight is skipped or repeated", async () => {
    // Santiago springs forward at midnight: September 6 begins at 01:00.
    const santiago = await getStatsOverTime("2026-09-05", "2026-09-06", { db, bucket: "day", timeZone: "America/Santiago" });
    expect(santiago.map((b) => b.bucket_start)).toEqual(["2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00"]);
    // Havana falls back from 01:00 to 00:00: November 1 begins at the first midnight.
    const havana = await getStatsOverTime("2026-11-01", "2026-11-02", { db, bucket: "day", timeZone: "America/Havana" });
    expect(havana.map((b) => b.bucket_start)).toEqual(["2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"]);
  });

  it("names the bucket a range starts inside by the bucket's own start, and zero-fills empty buckets", async () => {
    const result = await getStatsOverTime("2027-01-01T10:37:12Z", "2027-01-01T13:00:00Z", { db, bucket: "hour", timeZone: "Asia/Kathmandu" });
    expect(result.map((b) => b.bucket_start)).toEqual([
      "2027-01-01T16:00:00+05:45",
      "2027-01-01T17:00:00+05:45",
      "2027-01-01T18:00:00+05:45",
    ]);
    expect(result.every((b) => b.total_calls === 0 && b.total_tokens === 0 && b.total_cost_usd === 0)).toBe(true);
    expect(await getStatsOverTime("2027-01-01", "2027-01-02", { db, bucket: "day", groupBy: "model" })).toEqual([]);
    expect(await getStatsOverTime("2027-01-02", "2027-01-01", { db, bucket: "day" })).toEqual([]);
  });
});

describe("getStatsOverTime limits", () => {
  it("refuses more than 1,000 buckets, naming options.bucket", async () => {
    const error = await getStatsOverTime("2026-01-01", "2026-12-31", { db, bucket: "hour" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      'options.bucket: the range holds about 8,760 hour buckets, more than the 1,000 allowed; use bucket "day" or a shorter range',
    );
    expect(await getStatsOverTime("2026-01-01", "2026-12-31", { db, bucket: "day" })).toHaveLength(365);
  });

  it("refuses more than 100,000 entries, naming options.limit, and keeps the top series with a limit", async () => {
    const many = Array.from({ length: 150 }, (_, i) => ({
      id: crypto.randomUUID(),
      user_id: `bulk-${String(i).padStart(3, "0")}`,
      model: "bulk",
      prompt_tokens: i,
      total_tokens: i,
      created_at: "2025-06-01T12:00:00Z",
    }));
    await db`INSERT INTO llm_tracker_usage ${db(many)}`;
    const options = { db, bucket: "hour", groupBy: "user" } as const;
    const error = await getStatsOverTime("2025-06-01", "2025-06-30", options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).argument).toBe("options.limit");
    expect((error as Error).message).toContain("150 series × 720 buckets");
    const top = await getStatsOverTime("2025-06-01", "2025-06-30", { ...options, limit: 2 });
    expect(top).toHaveLength(2 * 720);
    expect(top.filter((b) => b.total_calls > 0).map((b) => [b.bucket_start, b.user_id, b.total_tokens])).toEqual([
      ["2025-06-01T12:00:00+00:00", "bulk-149", 149],
      ["2025-06-01T12:00:00+00:00", "bulk-148", 148],
    ]);
  });

  it("keeps the top series of any limit: past 1,000 ranked in the statement, not listed key by key (a parameter each, 65,535 at most)", async () => {
    // 66,001 users on one day, tokens 1..66,001 (no ties): limit 66,000 drops the smallest.
    await db`INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, total_tokens, created_at)
      SELECT gen_random_uuid(), 'wide-' || lpad(i::text, 5, '0'), 'wide', i, i, '2025-08-01T09:00:00Z'
      FROM generate_series(1, 66001) AS i`;
    const options = { db, bucket: "day", groupBy: "user", timeZone: "UTC" } as const;
    const all = await getStatsOverTime("2025-08-01", "2025-08-01", options);
    expect(all).toHaveLength(66_001);
    expect(all[0]).toMatchObject({ user_id: "wide-66001", total_tokens: 66_001 });
    expect(await getStatsOverTime("2025-08-01", "2025-08-01", { ...options, limit: 66_000 })).toEqual(all.slice(0, 66_000));
    expect(await getStatsOverTime("2025-08-01", "2025-08-01", { ...options, limit: 1_000 })).toEqual(all.slice(0, 1_000));
  });

  // A database nobody listens on: these errors must come from the arguments, before any connection.
  const unreachable = postgres("postgres://nobody:hunter2@127.0.0.1:1/none", { connect_timeout: 1 });
  afterAll(() => unreachable.end());

  it.each([
    ["startDate", undefined, "2026-03-01", { bucket: "day" }],
    ["endDate", "2026-03-01", undefined, { bucket: "day" }],
    ["endDate", "2026-03-01", "2026-02-30", { bucket: "day" }],
    ["options.bucket", "2026-03-01", "2026-03-02", {}],
    ["options.bucket", "2026-03-01", "2026-03-02", { bucket: "week" }],
    ["options.groupBy", "2026-03-01", "2026-03-02", { bucket: "day", groupBy: "provider" }],
    ["options.limit", "2026-03-01", "2026-03-02", { bucket: "day", groupBy: "user", limit: 0 }],
    ["options.limit", "2026-03-01", "2026-03-02", { bucket: "day", groupBy: "user", limit: 2.5 }],
    ["options.limit", "2026-03-01", "2026-03-02", { bucket: "day", limit: 3 }],
    ["options.timeZone", "2026-03-01", "2026-03-02", { bucket: "day", timeZone: "Mars/Base" }],
  ] as const)("rejects a bad %s before querying", async (argument, start, end, options) => {
    const error = await getStatsOverTime(start as never, end as never, { db: unreachable, ...(options as object) } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).argument).toBe(argument);
  });
});
