// runMigrations: concurrent runs on one database, creating a missing database,
// and a table that accepts rows carrying only the contract's columns.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFolder, runMigrations } from "../../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const journal = JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: unknown[] };

/** What a migrated database holds: usage tables by that name, and rows in drizzle's journal table. */
async function inspect(url: string): Promise<{ usageTables: number; appliedMigrations: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [tables] = await sql`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'llm_tracker_usage'`;
    const [applied] = await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
    return { usageTables: tables!.n as number, appliedMigrations: applied!.n as number };
  } finally {
    await sql.end();
  }
}

const databases: TestDatabase[] = [];
async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
});

describe("runMigrations", () => {
  it("runs twice at once on a fresh database: both succeed, one table, one journal row per migration", async () => {
    const database = await freshDatabase();
    await Promise.all([runMigrations(database.url), runMigrations(database.url)]);
    expect(await inspect(database.url)).toEqual({ usageTables: 1, appliedMigrations: journal.entries.length });
  });

  it("changes nothing when run again", async () => {
    const database = await freshDatabase();
    await runMigrations(database.url);
    await runMigrations(database.url);
    expect(await inspect(database.url)).toEqual({ usageTables: 1, appliedMigrations: journal.entries.length });
  });

  it("creates the database when it does not exist, also from two processes at once", async () => {
    const database = await freshDatabase();
    await database.drop();
    await Promise.all([runMigrations(database.url), runMigrations(database.url)]);
    expect(await inspect(database.url)).toEqual({ usageTables: 1, appliedMigrations: journal.entries.length });
  });

  it("does not create a missing database when told not to, and names it without the password", async () => {
    const database = await freshDatabase();
    await database.drop();
    const url = new URL(database.url);
    url.password = "hunter2-secret";
    const error = await runMigrations(url.toString(), { createDatabase: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(database.name);
    expect((error as Error).message).not.toContain("hunter2-secret");
  });
});

describe("the usage table", () => {
  let database: TestDatabase;
  let sql: postgres.Sql;

  beforeAll(async () => {
    database = await freshDatabase();
    await runMigrations(database.url);
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
  });

  it("accepts a row with only the contract's columns and fills the added ones", async () => {
    const id = crypto.randomUUID();
    await sql`INSERT INTO llm_tracker_usage
      (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, success, error, metadata, created_at)
      VALUES (${id}, 'u1', 'gpt-4o', 10, 5, 15, 2, 1, false, 'timeout', ${sql.json({ node_name: "interpret" })}, '2026-03-08T12:00:00Z')`;
    const [row] = await sql`SELECT provider, deployment, latency_ms, usage_reported, inserted_at, metadata->>'node_name' AS node_name
      FROM llm_tracker_usage WHERE id = ${id}`;
    expect(row).toMatchObject({ provider: null, deployment: null, latency_ms: null, usage_reported: null, node_name: "interpret" });
    expect(row!.inserted_at).toBeInstanceOf(Date);
  });

  it("requires id and created_at", async () => {
    await expect(sql`INSERT INTO llm_tracker_usage (id, model) VALUES (${crypto.randomUUID()}, 'm')`).rejects.toMatchObject({ code: "23502" });
    await expect(sql`INSERT INTO llm_tracker_usage (model, created_at) VALUES ('m', now())`).rejects.toMatchObject({ code: "23502" });
  });
});
