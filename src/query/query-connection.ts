// Which Postgres the stats and re-pricing use: the caller's `options.db`, or shared
// pools made on first use and rebuilt when the settings point elsewhere. The stats
// read LLM_TRACKER_STATS_DATABASE_URL (a read replica, default DATABASE_URL);
// re-pricing writes, so it always goes to DATABASE_URL, the primary.
import type { Sql } from "postgres";
import { getTrackerSettings } from "../config/settings.js";
import { createConnection, type DatabaseConnection } from "../db/connection.js";

/** A postgres.js client, or a connection made by `createConnection()`. */
export type StatsDatabase = Sql | DatabaseConnection;

/** Shared pools by URL: one when the stats read the primary, two when they read a replica. */
const pools = new Map<string, DatabaseConnection>();

function sharedSql(url: string, applicationName: string): Sql {
  const { databaseUrl, statsDatabaseUrl } = getTrackerSettings();
  // configure() pointed us elsewhere: let the pools no setting names finish their queries and go.
  for (const [poolUrl, connection] of pools) {
    if (poolUrl !== databaseUrl && poolUrl !== statsDatabaseUrl) {
      pools.delete(poolUrl);
      void connection.close().catch(() => {});
    }
  }
  let connection = pools.get(url);
  if (!connection) {
    connection = createConnection(url, { applicationName });
    pools.set(url, connection);
  }
  return connection.sql;
}

function callerSql(db: StatsDatabase): Sql {
  return typeof db === "function" ? db : db.sql;
}

/** The client the stats read through: `db` when given (never closed here), else the shared pool for LLM_TRACKER_STATS_DATABASE_URL. */
export function statsSql(db: StatsDatabase | undefined): Sql {
  if (db !== undefined) return callerSql(db);
  return sharedSql(getTrackerSettings().statsDatabaseUrl, "llm-tracker-stats");
}

/** The client for statements that write (re-pricing): `db` when given, else the shared pool for DATABASE_URL, never the replica. */
export function primarySql(db: StatsDatabase | undefined): Sql {
  if (db !== undefined) return callerSql(db);
  return sharedSql(getTrackerSettings().databaseUrl, "llm-tracker-stats");
}

/**
 * Closes the shared pools (waiting up to 5 s for running queries). Safe to call
 * twice or before any query; a later stats call opens a new pool. Connections
 * passed as `options.db` belong to the caller and are left open.
 */
export async function close(): Promise<void> {
  const closing = [...pools.values()];
  pools.clear();
  await Promise.all(closing.map((connection) => connection.close()));
}
