// llm-tracker/stats in a reporting process while Postgres restarts: a fresh
// connection killed right after its handshake, at its first query or halfway
// through the answer, then connections refused for a second. Each call fails
// with a clear connection error or succeeds on retry; the process never dies
// of an unhandled rejection (postgres.js's array-types query used to cause one).
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { runJobThroughFaults } from "../support/postgres-faults.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { makeEvent } from "../support/usage-events.js";

const ROWS = 5;
let database: TestDatabase;
let proxy: TcpProxy;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    for (let i = 0; i < ROWS; i += 1) {
      const e = makeEvent({ created_at: `2025-03-04T0${i}:00:00+00:00` });
      await sql`INSERT INTO llm_tracker_usage (id, model, provider, prompt_tokens, completion_tokens, total_tokens, created_at)
        VALUES (${e.id}, ${e.model}, ${e.provider}, ${e.prompt_tokens}, ${e.completion_tokens}, ${e.total_tokens}, ${e.created_at})`;
    }
  } finally {
    await sql.end();
  }
  const target = new URL(database.url);
  proxy = await startTcpProxy(Number(target.port || 5432), target.hostname, { protocol: "postgres" });
});

afterAll(async () => {
  await proxy?.close();
  await database?.drop();
});

describe("llm-tracker/stats through a restarting Postgres", () => {
  it("getSummaryStats (the shared pool) survives a cut at each fragile moment and then answers", async () => {
    const attempts = await runJobThroughFaults("stats", database.url, proxy);
    for (const attempt of attempts.filter((a) => a.ok)) expect(attempt.result).toMatchObject({ total_calls: ROWS });
  });

  it("recomputeCosts (arrays of ids and costs) survives the same cuts and re-prices every row", async () => {
    const attempts = await runJobThroughFaults("recompute", database.url, proxy);
    for (const attempt of attempts.filter((a) => a.ok)) expect(attempt.result).toMatchObject({ rows_repriced: ROWS });
  });

  it("a pool from createConnection survives the same cuts", async () => {
    const attempts = await runJobThroughFaults("connection", database.url, proxy);
    for (const attempt of attempts.filter((a) => a.ok)) expect(attempt.result).toEqual({ n: ROWS });
  });
});
