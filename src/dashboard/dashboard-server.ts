// The dashboard's HTTP server (Node's own): the page, its assets and the JSON
// API, each request first through the access guard. Read-only: GET and HEAD.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError, type Logger } from "../logger.js";
import type { StatsDatabase } from "../stats/index.js";
import { ApiParameterError } from "./api-parameter-error.js";
import { isApiRoute, runApiRoute } from "./api-routes.js";
import { createAccessGuard, isLoopbackAddress } from "./dashboard-auth.js";
import { loadPageAssets, type PageAsset } from "./page-assets.js";
import { UnprotectedDashboardError } from "./unprotected-dashboard-error.js";

export { UnprotectedDashboardError };

export interface DashboardServerOptions {
  /** Interface to bind. Default `127.0.0.1`; any non-loopback address requires `token`. */
  host?: string;
  /** Port; 0 picks a free one. Default 4173. */
  port?: number;
  /**
   * Secret every request must carry (`Authorization: Bearer …` or the cookie a
   * `/?token=…` visit sets). Default: none, allowed on loopback only.
   */
  token?: string;
  /** Where the stats read. Default: their shared pool (DATABASE_URL, or LLM_TRACKER_STATS_DATABASE_URL where supported). */
  db?: StatsDatabase;
  /** Gets one line per failed query (never a secret). Default: none. */
  logger?: Pick<Logger, "error">;
}

export interface DashboardServer {
  /** Base URL for local callers, `http://<host>:<port>/`. */
  url: string;
  port: number;
  /** Stops listening and drops open connections; safe to call more than once. */
  close(): Promise<void>;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 4173;

/**
 * Policy for every response: scripts, styles, images and fetches from this
 * origin only (no inline script or style, nothing from the internet), no
 * framing, no referrer (a `?token=` URL must not leak through it).
 */
const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export async function startDashboardServer(options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const { host = DEFAULT_HOST, port = DEFAULT_PORT, token, db, logger } = options;
  if (token === undefined && !isLoopbackAddress(host)) throw new UnprotectedDashboardError(host);
  if (token !== undefined && token.length === 0) throw new Error("the dashboard token is empty");
  const guard = createAccessGuard(token);
  const assets = await loadPageAssets();

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger?.error({ err: describeError(error) }, "dashboard request failed");
      if (!response.headersSent) sendText(response, 500, "internal error\n");
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://dashboard.invalid");
    } catch {
      sendText(response, 400, "bad request\n");
      return;
    }
    const access = guard.decide(request, url);
    if (access.kind === "unauthorized") {
      response.setHeader("WWW-Authenticate", 'Bearer realm="llm-tracker dashboard"');
      sendText(response, 401, "unauthorized\n");
      return;
    }
    if (access.kind === "forbidden-host") {
      sendText(response, 403, "forbidden: this dashboard answers only requests addressed to localhost (set a token to serve other names)\n");
      return;
    }
    if (access.kind === "redirect") {
      response.setHeader("Set-Cookie", access.setCookie);
      response.setHeader("Location", access.location);
      sendText(response, 303, "");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      sendText(response, 405, "method not allowed\n");
      return;
    }
    const path = url.pathname;
    if (isApiRoute(path)) {
      await answerApi(path, url.searchParams, response);
      return;
    }
    const asset = assets.get(path);
    if (asset) sendAsset(request, response, asset);
    else sendText(response, 404, "not found\n");
  }

  async function answerApi(path: string, params: URLSearchParams, response: ServerResponse): Promise<void> {
    try {
      sendJson(response, 200, await runApiRoute(path, params, db));
    } catch (error) {
      if (error instanceof ApiParameterError) {
        sendJson(response, 400, { error: "bad_parameter", parameter: error.parameter, message: error.message });
        return;
      }
      // The database's own message may name hosts or users; the log gets it, the page a plain one.
      logger?.error({ err: describeError(error), route: path }, "dashboard stats query failed");
      sendJson(response, 503, { error: "stats_unavailable", message: "the stats query failed (is Postgres reachable?); see the dashboard's log" });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger?.error({ err: describeError(error) }, "dashboard server error"));
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${bound}/`,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // An open page keeps a keep-alive connection that would hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function sendText(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  response.end(response.req.method === "HEAD" ? undefined : JSON.stringify(value));
}

function sendAsset(request: IncomingMessage, response: ServerResponse, asset: PageAsset): void {
  // Revalidated on every load, so a new version of the package shows at once.
  const headers = { "Content-Type": asset.contentType, ETag: asset.etag, "Cache-Control": "no-cache" };
  if (request.headers["if-none-match"] === asset.etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  response.writeHead(200, { ...headers, "Content-Length": asset.body.length });
  response.end(request.method === "HEAD" ? undefined : asset.body);
}
