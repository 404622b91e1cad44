// Applies the shipped SQL migrations (drizzle/) over one connection, under a
// Postgres advisory lock so several workers starting at once migrate once.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { redactUrl } from "../logger.js";
import { createConnection } from "./connection.js";

/** Arbitrary constant shared by every llm-tracker process: the advisory lock key for migrations. */
const MIGRATION_LOCK_KEY = 7_146_385_201;

/**
 * One connection (the advisory lock belongs to the session), made by createConnection
 * so a connection dying mid-start cannot crash the process. Every query is awaited
 * before close(), so close() has nothing to wait for — except after a connection died,
 * when postgres.js would wait the whole timeout: keep it short for quick retries.
 */
const MIGRATION_POOL = { max: 1, connectTimeoutSeconds: 10, closeTimeoutSeconds: 1, applicationName: "llm-tracker-migrate" } as const;

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
  const url = parseDatabaseUrl(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!name) return false;
  const probe = createConnection(databaseUrl, MIGRATION_POOL);
  try {
    await probe.sql`select 1`;
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== "3D000") throw error; // 3D000: database does not exist
  } finally {
    await probe.close();
  }
  url.pathname = "/postgres";
  const admin = createConnection(url.toString(), MIGRATION_POOL);
  try {
    await admin.sql.unsafe(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    // Created meanwhile by another process: 42P04 when it had committed, 23505 (on
    // pg_database's name index) when both CREATE DATABASE statements raced.
    const code = (error as { code?: string }).code;
    if (code === "42P04" || code === "23505") return false;
    throw error;
  } finally {
    await admin.close();
  }
}

export interface MigrateOptions {
  /** Create the database first when it is missing. Default true. */
  createDatabase?: boolean;
}

/**
 * Applies every pending migration; safe to run from several processes at once.
 * Fails with `llm-tracker: migrating <url without credentials> failed: <reason>`,
 * the driver's error (its `code`, e.g. ECONNREFUSED or a SQLSTATE) as `cause`.
 */
export async function runMigrations(databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  parseDatabaseUrl(databaseUrl);
  const folder = migrationsFolder();
  try {
    if (options.createDatabase ?? true) await ensureDatabase(databaseUrl);
    await migrateUnderLock(databaseUrl, folder);
  } catch (error) {
    throw new Error(`llm-tracker: migrating ${redactUrl(databaseUrl)} failed: ${(error as Error).message}`, { cause: error });
  }
}

async function migrateUnderLock(databaseUrl: string, folder: string): Promise<void> {
  const connection = createConnection(databaseUrl, MIGRATION_POOL);
  const { sql } = connection;
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(connection.db, { migrationsFolder: folder });
    } finally {
      // When the connection died, its session — and the lock with it — is gone already;
      // that failure must not hide the migration's own outcome.
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    }
  } finally {
    await connection.close();
  }
}

/** The URL, or an error naming it without its credentials (WHATWG's error would carry it whole, as `input`). */
function parseDatabaseUrl(databaseUrl: string): URL {
  try {
    return new URL(databaseUrl);
  } catch {
    throw new Error(`llm-tracker: the database URL ${redactUrl(databaseUrl)} is malformed`);
  }
}
