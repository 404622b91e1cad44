// One pooled Postgres connection (postgres.js) plus a drizzle instance over it,
// with one owner that closes it. Errors never carry the URL's password, and a
// connection that dies never rejects a promise nobody awaits.
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import { redactUrl } from "../logger.js";
import * as schema from "./schema.js";

/** Pool settings; each has a default suited to a worker or a reporting job. */
export interface ConnectionOptions {
  /** Most connections held open at once. Default 10. */
  max?: number;
  /** Seconds an unused connection stays open; also lets a script that forgot close() exit. Default 20. */
  idleTimeoutSeconds?: number;
  /** Seconds to wait for a connection before failing. Default 10. */
  connectTimeoutSeconds?: number;
  /** Shown in `pg_stat_activity.application_name`. Default `llm-tracker`. */
  applicationName?: string;
  /**
   * Longest wait of close() for running queries, in seconds, before it cuts the
   * connections. Also what close() costs after a connection died mid-query: postgres.js
   * then waits for that query forever (porsager/postgres#1097), so only this bound ends it. Default 5.
   */
  closeTimeoutSeconds?: number;
}

export interface DatabaseConnection {
  /** The postgres.js client (tagged-template queries). */
  readonly sql: Sql;
  /** Drizzle over the same pool, typed with the usage table's schema. */
  readonly db: PostgresJsDatabase<typeof schema>;
  /** The URL without user or password, for logs. */
  readonly redactedUrl: string;
  /** Waits for running queries (up to `closeTimeoutSeconds`, default 5 s), then closes every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens a pool for `databaseUrl`. Connections are made lazily, on the first
 * query, so this throws only when the URL itself is malformed — and then with
 * the URL redacted (postgres.js would echo it, password included).
 */
export function createConnection(databaseUrl: string, options: ConnectionOptions = {}): DatabaseConnection {
  let sql: Sql;
  try {
    sql = postgres(databaseUrl, {
      max: options.max ?? 10,
      idle_timeout: options.idleTimeoutSeconds ?? 20,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      connection: { application_name: options.applicationName ?? "llm-tracker" },
      onnotice: () => {},
      // postgres.js's default (fetch_types: true) runs an internal query for the array
      // types on every new connection and discards its promise: when that connection
      // dies at that moment (Postgres restarting), the rejection reaches no code and
      // Node ends the process (porsager/postgres#1192, #1205, #1223; 3.4.9). No query
      // of ours sends or reads an array (lists travel as JSON text), so we do not need them.
      fetch_types: false,
    });
  } catch {
    // The original error's message and `input` hold the full URL; drop both.
    throw new Error(`llm-tracker: the database URL ${redactUrl(databaseUrl)} is malformed`);
  }
  let closing: Promise<void> | undefined;
  return {
    sql,
    db: drizzle(sql, { schema }),
    redactedUrl: redactUrl(databaseUrl),
    close() {
      closing ??= sql.end({ timeout: options.closeTimeoutSeconds ?? 5 });
      return closing;
    },
  };
}
