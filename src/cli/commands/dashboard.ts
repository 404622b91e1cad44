// `llm-tracker dashboard`: serves the usage page and its JSON API until
// SIGTERM/SIGINT. Needs only Postgres (the stats' connection).
import { parseArgs } from "node:util";
import { InvalidInputError } from "../../errors/invalid-input-error.js";
import { EXIT, type CliCommand } from "../cli-command.js";

const TOKEN_VARIABLE = "LLM_TRACKER_DASHBOARD_TOKEN";

const HELP = [
  "Usage: llm-tracker dashboard [--host 127.0.0.1] [--port 4173]",
  "",
  "Serves a web page over the usage stats: totals, charts over time, tables by",
  "model, user and node, recent failures, CSV export. Reads DATABASE_URL (only",
  "SELECT is needed); loads nothing from the internet.",
  "",
  "  --host ADDR   interface to listen on (default 127.0.0.1: this machine only).",
  `                Any other address refuses to start without ${TOKEN_VARIABLE}.`,
  "  --port N      port (default 4173; 0 picks a free one)",
  "",
  `${TOKEN_VARIABLE}: when set, every request must carry it, as`,
  "`Authorization: Bearer <token>` or the cookie that opening /?token=<token> sets.",
  "On a server, prefer an SSH tunnel to the default loopback address:",
  "  ssh -L 4173:127.0.0.1:4173 server   then open http://localhost:4173/",
].join("\n");

const dashboardCommand: CliCommand = {
  summary: "serve the usage page (--host 127.0.0.1 --port 4173; needs only Postgres)",
  help: HELP,
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { host: { type: "string" }, port: { type: "string" } } }));
    } catch (error) {
      console.error(`llm-tracker dashboard: ${(error as Error).message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(/^\d{1,5}$/.test(values.port!) && port <= 65_535)) {
      throw new InvalidInputError("--port", `expected a port number from 0 to 65535, got ${JSON.stringify(values.port)}`);
    }
    const token = process.env[TOKEN_VARIABLE] || undefined;
    // Loaded here so `llm-tracker --help` does not load the server and the stats.
    const { startDashboardServer, UnprotectedDashboardError } = await import("../../dashboard/dashboard-server.js");
    const { createDashboardConnection } = await import("../../dashboard/dashboard-pool.js");
    const { close } = await import("../../stats/index.js");
    const { createLogger } = await import("../../logger.js");
    const { getTrackerSettings } = await import("../../config/settings.js");
    const logger = createLogger(getTrackerSettings().logLevel, "llm-tracker-dashboard");

    if (token !== undefined && token.length < 16) {
      console.error(`llm-tracker dashboard: warning: ${TOKEN_VARIABLE} is shorter than 16 characters; use a long random one (openssl rand -hex 32)`);
    }

    // A pool of its own, whose connections outlive the page's auto-refresh (dashboard-pool.ts).
    const db = createDashboardConnection(getTrackerSettings().statsDatabaseUrl);
    let server;
    try {
      server = await startDashboardServer({ host: values.host, port, token, logger, db });
    } catch (error) {
      await db.close();
      await close();
      if (error instanceof UnprotectedDashboardError) {
        console.error(`llm-tracker dashboard: ${error.message}`);
        return EXIT.usage;
      }
      const code = (error as { code?: string }).code;
      if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES") {
        console.error(`llm-tracker dashboard: cannot listen on ${values.host ?? "127.0.0.1"}:${port ?? 4173} (${code})`);
        return EXIT.failure;
      }
      throw error;
    }
    // The URL (never the token) on stdout: scripts and tests wait for this line.
    console.log(`llm-tracker dashboard: ${server.url}${token ? "  (token required: open ?token=<your token> once, or send Authorization: Bearer)" : ""}`);

    const stopped = new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    await stopped;
    await server.close();
    await db.close();
    await close();
    return EXIT.ok;
  },
};

export default dashboardCommand;
