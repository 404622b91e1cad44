// Which Postgres the stats (and re-pricing) query: the caller's `options.db`, or one shared
// pool for DATABASE_URL / configure(), made on first use and rebuilt when the URL changes.
import type { Sql } from "postgres";
import { getTrackerSettings } from "../config/settings.js";
import { createConnection, type DatabaseConnection } from "../db/connection.js";

/** A postgres.js client, or a connection made by `createConnection()`. */
export type StatsDatabase = Sql | DatabaseConnection;

let shared: { url: string; connection: DatabaseConnection } | undefined;

/** The client to query: `db` when given (never closed here), else the shared pool. */
export function statsSql(db: StatsDatabase | undefined): Sql {
  if (db !== undefined) return typeof db === "function" ? db : db.sql;
  const { databaseUrl } = getTrackerSettings();
  if (shared && shared.url !== databaseUrl) {
    // configure() pointed the stats elsewhere: let the old pool finish its queries and go.
    void shared.connection.close().catch(() => {});
    shared = undefined;
  }
  shared ??= { url: databaseUrl, connection: createConnection(databaseUrl, { applicationName: "llm-tracker-stats" }) };
  return shared.connection.sql;
}

/**
 * Closes the shared pool (waiting up to 5 s for running queries). Safe to call
 * twice or before any query; a later stats call opens a new pool. Connections
 * passed as `options.db` belong to the caller and are left open.
 */
export async function close(): Promise<void> {
  const current = shared;
  shared = undefined;
  await current?.connection.close();
}
