// Applies the shipped SQL migrations (drizzle/) over one connection, under a
// Postgres advisory lock so several workers starting at once migrate once.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { redactUrl } from "../logger.js";

/** Arbitrary constant shared by every llm-tracker process: the advisory lock key for migrations. */
const MIGRATION_LOCK_KEY = 7_146_385_201;

/** The drizzle/ folder, found from this file both in src/ (tsx) and in dist/src/ (built). */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    const candidate = join(dir, "drizzle");
    if (existsSync(join(candidate, "meta", "_journal.json"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error("llm-tracker: the drizzle/ migrations folder is missing from the installed package");
}

/** Creates the database named in `databaseUrl` when it does not exist yet (connecting to `postgres` to do it). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!name) return false;
  const probe = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await probe`select 1`;
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== "3D000") throw error; // 3D000: database does not exist
  } finally {
    await probe.end({ timeout: 1 });
  }
  url.pathname = "/postgres";
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await admin.unsafe(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    // Created meanwhile by another process: 42P04 when it had committed, 23505 (on
    // pg_database's name index) when both CREATE DATABASE statements raced.
    const code = (error as { code?: string }).code;
    if (code === "42P04" || code === "23505") return false;
    throw error;
  } finally {
    await admin.end({ timeout: 1 });
  }
}

export interface MigrateOptions {
  /** Create the database first when it is missing. Default true. */
  createDatabase?: boolean;
}

/** Applies every pending migration; safe to run from several processes at once. */
export async function runMigrations(databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  if (options.createDatabase ?? true) await ensureDatabase(databaseUrl);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle(sql), { migrationsFolder: migrationsFolder() });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } catch (error) {
    throw new Error(`llm-tracker: migrating ${redactUrl(databaseUrl)} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
