// getRecentFailures: the newest failed calls first, with their time in the
// caller's zone, bounded by a range and a limit; bad arguments named.
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { InvalidInputError } from "../../src/errors/invalid-input-error.js";
import { getRecentFailures } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
let db: Sql;

const row = (at: string, success: boolean, extra: Record<string, unknown> = {}) => ({
  id: crypto.randomUUID(),
  user_id: "u1",
  model: "gpt-4o",
  success,
  error: success ? null : `failed at ${at}`,
  metadata: { node_name: "interpret" },
  created_at: at,
  provider: "openai",
  latency_ms: 120,
  ...extra,
});

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  // Through JSON, so created_at keeps its microseconds (a timestamptz parameter would pass through a JS Date).
  const rows = [
    row("2026-03-10T01:00:00.000001Z", false),
    row("2026-03-10T02:00:00Z", true),
    row("2026-03-10T03:00:00Z", false, { user_id: null, metadata: { source_type: "task" }, provider: "gemini", model: "gemini-2.5-flash" }),
    row("2026-03-10T04:00:00Z", true),
    row("2026-03-11T05:30:00.123456Z", false, { latency_ms: null }),
  ];
  await db`INSERT INTO llm_tracker_usage (id, user_id, model, success, error, metadata, created_at, provider, latency_ms)
    SELECT id, user_id, model, success, error, metadata, created_at, provider, latency_ms
    FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS t(id uuid, user_id text, model text, success bool, error text,
      metadata jsonb, created_at timestamptz, provider text, latency_ms int)`;
});

afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe("getRecentFailures", () => {
  it("lists failed calls only, newest first, with time, provider, model, user, node and error", async () => {
    const failures = await getRecentFailures(10, { db });
    expect(failures.map((f) => f.created_at)).toEqual([
      "2026-03-11T05:30:00.123456+00:00",
      "2026-03-10T03:00:00.000000+00:00",
      "2026-03-10T01:00:00.000001+00:00",
    ]);
    expect(failures[1]).toEqual({
      id: expect.any(String),
      created_at: "2026-03-10T03:00:00.000000+00:00",
      provider: "gemini",
      model: "gemini-2.5-flash",
      user_id: null,
      node_name: null,
      error: "failed at 2026-03-10T03:00:00Z",
      latency_ms: 120,
    });
    expect(failures[0]).toMatchObject({ user_id: "u1", node_name: "interpret", latency_ms: null });
  });

  it("keeps the first `limit` (20 by default) and shows times in options.timeZone", async () => {
    expect(await getRecentFailures(1, { db, timeZone: "Asia/Kathmandu" })).toEqual([
      expect.objectContaining({ created_at: "2026-03-11T11:15:00.123456+05:45" }),
    ]);
    expect(await getRecentFailures(undefined, { db })).toHaveLength(3);
  });

  it("bounds the list by options.startDate and options.endDate (a date alone includes its day)", async () => {
    const day = await getRecentFailures(10, { db, startDate: "2026-03-10", endDate: "2026-03-10" });
    expect(day.map((f) => f.created_at)).toEqual(["2026-03-10T03:00:00.000000+00:00", "2026-03-10T01:00:00.000001+00:00"]);
    const after = await getRecentFailures(10, { db, startDate: "2026-03-10T01:00:00.000002Z" });
    expect(after).toHaveLength(2);
  });

  it("keeps the failures matching options.filter", async () => {
    expect((await getRecentFailures(10, { db, filter: { userId: null } })).map((f) => f.model)).toEqual(["gemini-2.5-flash"]);
    expect(await getRecentFailures(10, { db, filter: { nodeName: "interpret", model: "gpt-4o" } })).toHaveLength(2);
  });

  const unreachable = postgres("postgres://nobody:hunter2@127.0.0.1:1/none", { connect_timeout: 1 });
  afterAll(() => unreachable.end());

  it.each([
    ["limit", 0, {}],
    ["limit", 1001, {}],
    ["limit", "5", {}],
    ["options.startDate", 5, { startDate: "yesterday" }],
    ["options.endDate", 5, { endDate: "2026-02-30" }],
    ["options.timeZone", 5, { timeZone: "Mars/Base" }],
    ["options.filter.team", 5, { filter: { team: "a" } }],
  ] as const)("rejects a bad %s before querying", async (argument, limit, options) => {
    const error = await getRecentFailures(limit as never, { db: unreachable, ...(options as object) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).argument).toBe(argument);
  });
});
