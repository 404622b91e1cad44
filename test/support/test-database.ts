// Each test file owns a fresh Postgres database, so tests never see each other's rows.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { ADMIN_DATABASE_URL, databaseUrl } from "./services.js";

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = "llmt_test"): Promise<TestDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: databaseUrl(name),
    async drop() {
      const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {}, fetch_types: false });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}
