// createConnection: one pool serving postgres.js and drizzle, closed once, and
// errors that never show the URL's password.
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConnection } from "../../src/db/connection.js";
import { runMigrations } from "../../src/db/migrate.js";
import { llmTrackerUsage } from "../../src/db/schema.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
});

afterAll(async () => {
  await database?.drop();
});

describe("createConnection", () => {
  it("serves tagged-template queries and drizzle over the same pool, named llm-tracker", async () => {
    const connection = createConnection(database.url);
    try {
      const [row] = await connection.sql`SELECT current_setting('application_name') AS name`;
      expect(row!.name).toBe("llm-tracker");
      await connection.sql`INSERT INTO llm_tracker_usage (id, model, created_at) VALUES (${crypto.randomUUID()}, 'm', now())`;
      expect(await connection.db.select({ rows: count() }).from(llmTrackerUsage)).toEqual([{ rows: 1 }]);
    } finally {
      await connection.close();
    }
  });

  it("closes once: close() twice resolves, and later queries are refused", async () => {
    const connection = createConnection(database.url, { max: 2, applicationName: "closing-test" });
    await connection.sql`SELECT 1`;
    const firstClose = connection.close();
    expect(connection.close()).toBe(firstClose);
    await firstClose;
    await expect(connection.sql`SELECT 1`).rejects.toThrow();
  });

  it("refuses a malformed URL without echoing its password", () => {
    expect(() => createConnection("postgres://user:hunter2-secret@[not-a-host/db")).toThrowError(/malformed/);
    try {
      createConnection("postgres://user:hunter2-secret@[not-a-host/db");
    } catch (error) {
      expect(JSON.stringify({ message: (error as Error).message, ...(error as object) })).not.toContain("hunter2-secret");
    }
  });

  it("reports an unreachable server without the password", async () => {
    const connection = createConnection("postgres://user:hunter2-secret@127.0.0.1:1/none", { connectTimeoutSeconds: 2 });
    try {
      const error = await connection.sql`SELECT 1`.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      expect(`${(error as Error).message} ${(error as Error).stack}`).not.toContain("hunter2-secret");
    } finally {
      await connection.close();
    }
  });

  it("gives the redacted URL for logs", () => {
    const connection = createConnection("postgres://user:hunter2-secret@db.example:5432/usage");
    expect(connection.redactedUrl).toBe("postgres://db.example:5432/usage");
    void connection.close();
  });
});
