// Without options.db the stats use one shared pool for DATABASE_URL / configure(),
// rebuilt when the URL changes and closed by close().
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../src/config/settings.js";
import { runMigrations } from "../../src/db/migrate.js";
import { close, getSummaryStats } from "../../src/stats/index.js";
import { ADMIN_DATABASE_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let first: TestDatabase;
let second: TestDatabase;

/** Puts one row of `tokens` tokens into the database at `url`. */
async function seed(url: string, tokens: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`INSERT INTO llm_tracker_usage (id, model, prompt_tokens, total_tokens, created_at)
      VALUES (${crypto.randomUUID()}, 'm', ${tokens}, ${tokens}, now())`;
  } finally {
    await sql.end();
  }
}

/** Open connections the stats pool holds to `database`. */
async function statsConnections(database: TestDatabase): Promise<number> {
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${database.name} AND application_name = 'llm-tracker-stats'`;
    return row!.n as number;
  } finally {
    await admin.end();
  }
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await Promise.all([runMigrations(first.url), runMigrations(second.url)]);
  await Promise.all([seed(first.url, 111), seed(second.url, 222)]);
});

afterAll(async () => {
  await close();
  resetConfiguration();
  delete process.env.DATABASE_URL;
  await Promise.all([first?.drop(), second?.drop()]);
});

describe("the shared stats pool", () => {
  it("reads DATABASE_URL from the environment", async () => {
    process.env.DATABASE_URL = first.url;
    expect((await getSummaryStats()).total_tokens).toBe(111);
  });

  it("follows configure() to a new URL and closes the old pool", async () => {
    configure({ DATABASE_URL: second.url });
    expect((await getSummaryStats()).total_tokens).toBe(222);
    await waitFor(async () => (await statsConnections(first)) === 0, "the old pool to close");
    expect(await statsConnections(second)).toBeGreaterThan(0);
  });

  it("close() ends the pool, may be called twice, and a later call opens a new one", async () => {
    await close();
    await close();
    expect(await statsConnections(second)).toBe(0);
    expect((await getSummaryStats()).total_tokens).toBe(222);
  });
});
