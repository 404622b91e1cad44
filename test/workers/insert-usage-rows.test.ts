// insertUsageRows: the batch travels as one JSON text, and every value lands
// exactly — instants to the microsecond, decimal costs digit for digit, metadata as jsonb.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertUsageRows } from "../../workers/insert-usage-rows.js";
import { runMigrations } from "../../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { makeEvent } from "../support/usage-events.js";

let db: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.url);
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

describe("insertUsageRows", () => {
  it("keeps microseconds and the offset's instant of created_at, and the exact decimal of cost_usd", async () => {
    const event = makeEvent({ created_at: "2024-02-29T23:59:59.123456+05:45" });
    await insertUsageRows(sql, [{ ...event, cost_usd: "12345678.0000000001", price_version: "p-1" }]);
    const [row] = await sql`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS utc, cost_usd::text AS cost, price_version
      FROM llm_tracker_usage WHERE id = ${event.id}`;
    expect(row).toEqual({ utc: "2024-02-29T18:14:59.123456", cost: "12345678.0000000001", price_version: "p-1" });
  });

  it("writes metadata as jsonb with quotes, backslashes, non-ASCII and deep nesting intact", async () => {
    const metadata = { 'q"uo\\te': "line\nbreak\t✓ 😀", deep: { list: [1, 2.5, true, null, { x: "y" }] }, big: 12345678901234567890 };
    const event = makeEvent({ metadata, error: 'err "quoted" \\ ünï', user_id: "ユーザー" });
    await insertUsageRows(sql, [event]);
    const [row] = await sql`SELECT metadata, error, user_id FROM llm_tracker_usage WHERE id = ${event.id}`;
    expect(row).toEqual({ metadata, error: event.error, user_id: "ユーザー" });
  });

  it("writes a missing or null price as NULL and leaves unlisted event keys out", async () => {
    const unpriced = makeEvent();
    const nullPriced = makeEvent();
    await insertUsageRows(sql, [unpriced, { ...nullPriced, cost_usd: null, price_version: "p-2" }]);
    const rows = await sql`SELECT id, cost_usd, price_version FROM llm_tracker_usage WHERE id IN (${unpriced.id}, ${nullPriced.id}) ORDER BY price_version NULLS FIRST`;
    expect(rows).toEqual([
      { id: unpriced.id, cost_usd: null, price_version: null },
      { id: nullPriced.id, cost_usd: null, price_version: "p-2" },
    ]);
  });

  it("writes streamed, time_to_first_token_ms and operation, and the columns' defaults when an event lacks them", async () => {
    const streamed = makeEvent({ streamed: true, time_to_first_token_ms: 321, operation: "embeddings" });
    const { streamed: _s, time_to_first_token_ms: _t, operation: _o, ...older } = makeEvent();
    await insertUsageRows(sql, [streamed, older]);
    const rows = await sql`SELECT id, streamed, time_to_first_token_ms, operation FROM llm_tracker_usage
      WHERE id IN (${streamed.id}, ${older.id}) ORDER BY streamed DESC`;
    expect(rows).toEqual([
      { id: streamed.id, streamed: true, time_to_first_token_ms: 321, operation: "embeddings" },
      { id: older.id, streamed: false, time_to_first_token_ms: null, operation: "chat" },
    ]);
  });

  it("counts only new rows: an id already written is skipped", async () => {
    const first = makeEvent();
    const second = makeEvent();
    expect(await insertUsageRows(sql, [first])).toEqual({ inserted: 1 });
    expect(await insertUsageRows(sql, [first, second])).toEqual({ inserted: 1 });
    expect(await insertUsageRows(sql, [])).toEqual({ inserted: 0 });
  });
});
