// Why the dashboard would not start on a public address.

/**
 * Thrown by startDashboardServer, before listening, for a non-loopback host
 * without a token: anyone who could reach the address would read every
 * user's usage. The command prints the message and exits 2.
 */
export class UnprotectedDashboardError extends Error {
  constructor(readonly host: string) {
    super(
      `refusing to listen on ${host} without LLM_TRACKER_DASHBOARD_TOKEN: anyone who can reach that address would read ` +
        "every user's usage. Set a token (and put TLS in front), or keep --host 127.0.0.1 and use an SSH tunnel.",
    );
  }
}
