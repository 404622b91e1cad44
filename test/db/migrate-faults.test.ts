// runMigrations while Postgres restarts: a fresh connection killed right after
// its handshake, at its first query or halfway through the answer, then
// connections refused for a second. Each attempt fails with a clear connection
// error or succeeds; the process never dies of an unhandled rejection.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrationsFolder } from "../../src/db/migrate.js";
import { runJobThroughFaults } from "../support/postgres-faults.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const journal = JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
let database: TestDatabase;
let proxy: TcpProxy;

beforeAll(async () => {
  // A name only: the first migration through the proxy creates the database.
  database = await createTestDatabase();
  await database.drop();
  const target = new URL(database.url);
  proxy = await startTcpProxy(Number(target.port || 5432), target.hostname, { protocol: "postgres" });
});

afterAll(async () => {
  await proxy?.close();
  await database?.drop();
});

it("runMigrations creates and migrates the database through a cut at each fragile moment", async () => {
  const attempts = await runJobThroughFaults("migrate", database.url, proxy);
  const failures = attempts.filter((a) => !a.ok);
  expect(failures.length).toBeGreaterThan(0);
  // One message that says what failed and where (no credentials), the driver's reason after it.
  for (const failure of failures) expect(failure.error).toMatch(/^llm-tracker: migrating postgres:\/\/127\.0\.0\.1:\d+\/\w+ failed: /);
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const [applied] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
    // The usage table and the rollup; the usage table's daily partitions are not counted.
    const [tables] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_class
      WHERE relkind IN ('r', 'p') AND relname LIKE 'llm_tracker_usage%' AND NOT relispartition`;
    expect(applied!.n).toBe(journal.entries.length);
    expect(tables!.n).toBe(2);
  } finally {
    await sql.end();
  }
});
