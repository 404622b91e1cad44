// The dashboard's own pool to Postgres: connections that outlive the page's
// auto-refresh. With the stats' shared pool (closing a connection after 20 s
// idle) every refresh of an open page would open new connections, and each new
// backend's first run of a statement pays its parse and a cold catalog cache
// (the chart's 30-day call at 10M rows: 61 ms on a new backend, 43 ms on one
// that ran it before).
import { createConnection, type ConnectionOptions, type DatabaseConnection } from "../db/connection.js";

/** Idle connections stay this long: longer than the page's REFRESH_MS (page/time-range.js), so a page kept open finds them. */
export const DASHBOARD_IDLE_SECONDS = 300;

export const DASHBOARD_POOL: ConnectionOptions = { applicationName: "llm-tracker-dashboard", idleTimeoutSeconds: DASHBOARD_IDLE_SECONDS };

/** The pool `llm-tracker dashboard` reads through (`url`: the stats' database). */
export function createDashboardConnection(url: string): DatabaseConnection {
  return createConnection(url, DASHBOARD_POOL);
}
