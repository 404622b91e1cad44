// `/api/over-time?format=columns` over real HTTP, against a seeded database: the
// page's entriesFromColumns (src/dashboard/page/over-time-columns.js, run as it
// is) rebuilds exactly the entries `format=entries` answers, key order included.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboardServer, type DashboardServer } from "../../src/dashboard/dashboard-server.js";
import { overTimeColumns } from "../../src/dashboard/over-time-columns.js";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsOverTime } from "../../src/stats/index.js";
// @ts-expect-error: a plain ES module of the page, without type declarations.
import { entriesFromColumns as untypedEntriesFromColumns } from "../../src/dashboard/page/over-time-columns.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const entriesFromColumns = untypedEntriesFromColumns as (columns: unknown) => Record<string, unknown>[];

let database: TestDatabase;
let db: Sql;
let server: DashboardServer;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {}, fetch_types: false });
  // Eleven models of different weights, three users and calls without one, two nodes, over a day and a half:
  // some buckets miss some models (zero-filled entries), fractions in costs and mean latencies, unpriced calls.
  await db`INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms, time_to_first_token_ms, success, metadata, created_at)
    SELECT gen_random_uuid(), CASE WHEN i % 4 = 0 THEN NULL ELSE 'u' || (i % 3) END, 'model-' || floor(sqrt(i * 0.6))::int,
      10 * (i % 10) + 1, 5, 10 * (i % 10) + 6, CASE WHEN i % 9 <> 0 THEN (i % 7) * 0.000137 END, 100 + (i % 13) * 7, CASE WHEN i % 2 = 0 THEN 40 + i % 11 END,
      i % 5 <> 0, jsonb_build_object('node_name', 'n' || (i % 2)), '2026-03-10T00:00:00Z'::timestamptz + i * interval '11 minutes'
    FROM generate_series(1, 200) AS i`;
  server = await startDashboardServer({ port: 0, db });
});

afterAll(async () => {
  await server?.close();
  await db?.end();
  await database?.drop();
});

const get = (path: string) => fetch(new URL(path, server.url));

/** The text and the JSON of an answer that must be 200. */
async function answer(path: string): Promise<{ text: string; json: unknown }> {
  const response = await get(path);
  const text = await response.text();
  expect(response.status, `${path}: ${text.slice(0, 300)}`).toBe(200);
  return { text, json: JSON.parse(text) };
}

describe("/api/over-time?format=columns", () => {
  const queries = [
    ["grouped by model, top 7 of 11", "from=2026-03-10&to=2026-03-11&tz=Asia/Kolkata&bucket=hour&group_by=model&limit=7", "model"],
    ["grouped by user, calls without a user among them", "from=2026-03-09&to=2026-03-12&bucket=day&group_by=user", "user_id"],
    ["not grouped", "from=2026-03-10&to=2026-03-11&tz=America/New_York&bucket=hour", undefined],
  ] as const;

  it.each(queries)("%s: rebuilt by the page, equals the format=entries answer and the default one, in fewer bytes", async (_, query, keyField) => {
    const columns = await answer(`/api/over-time?${query}&format=columns`);
    const entries = await answer(`/api/over-time?${query}&format=entries`);
    const plain = await answer(`/api/over-time?${query}`);
    expect(entries.text).toBe(plain.text);

    const rebuilt = entriesFromColumns(columns.json);
    expect(rebuilt).toStrictEqual(entries.json);
    // toStrictEqual ignores key order; the page's CSV and charts read the entries as the stats lay them out.
    expect(JSON.stringify(rebuilt)).toBe(entries.text);
    expect(columns.text.length).toBeLessThan(entries.text.length);

    const shape = columns.json as { bucket_start: string[]; series: Record<string, unknown>[] };
    const allEntries = entries.json as Record<string, unknown>[];
    expect(shape.bucket_start).toEqual([...new Set(allEntries.map((entry) => entry.bucket_start))]);
    if (keyField) {
      if (query.includes("limit=7")) expect(shape.series).toHaveLength(7);
      expect(shape.series.map((series) => series[keyField])).toEqual(allEntries.slice(0, shape.series.length).map((entry) => entry[keyField]));
    } else {
      expect(shape.series).toHaveLength(1);
    }
    for (const series of shape.series) {
      expect(Object.keys(series)).toEqual(Object.keys(allEntries[0]!).slice(1));
      for (const [name, value] of Object.entries(series)) if (name !== keyField) expect(value, name).toHaveLength(shape.bucket_start.length);
    }
  });

  it("keeps the series getStatsOverTime ranks: a user's calls without a user are a series keyed null", async () => {
    const { json } = await answer("/api/over-time?from=2026-03-09&to=2026-03-12&bucket=day&group_by=user&format=columns");
    const stats = await getStatsOverTime("2026-03-09", "2026-03-12", { db, bucket: "day", groupBy: "user" });
    const keys = (json as { series: { user_id: string | null }[] }).series.map((series) => series.user_id);
    expect(keys).toContain(null);
    expect(keys).toEqual(stats.slice(0, keys.length).map((entry) => entry.user_id));
    expect(entriesFromColumns(json)).toStrictEqual(stats);
  });

  it("answers an empty range as no buckets and no series, which the page rebuilds as no entries", async () => {
    const empty = [
      "from=2026-03-10T00:00:00Z&to=2026-03-10T00:00:00Z&bucket=hour", // no bucket at all
      "from=2020-01-01&to=2020-01-02&bucket=day&group_by=model", // buckets, but no series
      "from=2020-01-01&to=2020-01-02&bucket=day&group_by=user&limit=3", // the top-N search finds no user
    ];
    for (const query of empty) {
      expect((await answer(`/api/over-time?${query}`)).json, query).toEqual([]);
      const { json } = await answer(`/api/over-time?${query}&format=columns`);
      expect(json, query).toEqual({ bucket_start: [], series: [] });
      expect(entriesFromColumns(json), query).toEqual([]);
    }
  });
});

describe("the format parameter", () => {
  it("refuses any value but entries and columns with a 400 naming it", async () => {
    for (const format of ["xml", "", "COLUMNS"]) {
      const response = await get(`/api/over-time?from=2026-03-10&to=2026-03-11&bucket=hour&format=${format}`);
      expect(response.status, format).toBe(400);
      const body = (await response.json()) as { error: string; parameter: string; message: string };
      expect(body).toMatchObject({ error: "bad_parameter", parameter: "format" });
      expect(body.message.startsWith("format: expected entries or columns")).toBe(true);
    }
  });

  it("is unknown to every other route, refused as any unknown parameter is", async () => {
    for (const route of ["summary", "by-model", "by-user", "by-node", "failures", "budgets"]) {
      const response = await get(`/api/${route}?format=columns`);
      expect(response.status, route).toBe(400);
      const body = (await response.json()) as { error: string; parameter: string; message: string };
      expect(body, route).toMatchObject({ error: "bad_parameter", parameter: "format" });
      expect(body.message, route).toMatch(/^format: unknown parameter \(accepted: /);
    }
  });
});

describe("overTimeColumns", () => {
  const figures = { total_calls: 1, successful_calls: 1, failed_calls: 0, total_prompt_tokens: 2, total_completion_tokens: 1, total_tokens: 3,
    total_cost_usd: 0.5, unpriced_calls: 0, avg_latency_ms: 10, avg_time_to_first_token_ms: 0 };
  const at = (hour: number) => `2026-03-10T0${hour}:00:00+00:00`;

  it("throws on entries out of the bucket-major layout rather than answer columns that rebuild into other entries", () => {
    const swapped = [
      { bucket_start: at(0), model: "a", ...figures },
      { bucket_start: at(0), model: "b", ...figures },
      { bucket_start: at(1), model: "b", ...figures },
      { bucket_start: at(1), model: "a", ...figures },
    ];
    expect(() => overTimeColumns(swapped, "model")).toThrow(/out of the bucket-major layout/);
    expect(() => overTimeColumns(swapped.slice(0, 3), "model")).toThrow(/not 2 series per bucket/);
  });
});
