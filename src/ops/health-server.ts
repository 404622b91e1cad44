// The worker's HTTP endpoint: GET /healthz (every check passes → 200, else 503,
// JSON either way) and GET /metrics (Prometheus text). Nothing else is served.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { describeError } from "../logger.js";
import { withTimeout } from "../with-timeout.js";

/** Resolves (or returns) when the thing it checks is fine; throws when it is not. */
export type HealthCheck = () => Promise<unknown> | unknown;

export interface HealthServerOptions {
  /**
   * Port to listen on; 0 picks a free one (tests). The `LLM_TRACKER_HTTP_PORT` setting
   * (default 9464) uses 0 for "no server": check it before calling this.
   */
  port: number;
  /**
   * Interface to bind. Default: every interface (Node's default, IPv6 and IPv4), because
   * Prometheus scrapes from another host or container; neither endpoint reveals a secret.
   */
  host?: string;
  /** Named checks for /healthz, run in parallel on each request. */
  checks: Record<string, HealthCheck>;
  /** Longest wait for one check, in ms; a slower one counts as failed. Default 2000. */
  checkTimeoutMs?: number;
  /** Served at /metrics. Default: none (/metrics answers 404). */
  registry?: Registry;
}

export interface CheckResult {
  ok: boolean;
  /** How long the check took, in ms. */
  ms: number;
  /** Why it failed; connection credentials are blanked out. */
  error?: string;
}

export interface HealthReport {
  status: "ok" | "fail";
  checks: Record<string, CheckResult>;
}

export interface HealthServer {
  /** The port actually bound (useful when `port` was 0). */
  port: number;
  /** Base URL, `http://127.0.0.1:<port>`, for local callers. */
  url: string;
  /** Stops listening and drops open connections; safe to call more than once. */
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { port, host, checks, checkTimeoutMs = 2_000, registry } = options;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, "text/plain; charset=utf-8", `${describeError(error)}\n`);
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      send(response, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz") {
      const report = await runChecks(checks, checkTimeoutMs);
      send(response, report.status === "ok" ? 200 : 503, "application/json; charset=utf-8", `${JSON.stringify(report)}\n`);
    } else if (path === "/metrics" && registry) {
      send(response, 200, registry.contentType, await registry.metrics());
    } else {
      send(response, 404, "text/plain; charset=utf-8", "not found (try /healthz or /metrics)\n");
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // After listen, a server still emits "error" when accepting a connection fails (EMFILE
  // when out of file descriptors): without a listener that would end the worker's process.
  // The server keeps listening; the next accept may succeed.
  server.on("error", () => {});
  const bound = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections from a scraper would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Runs every check in parallel, each bounded by `timeoutMs`; healthy only when all pass. */
export async function runChecks(checks: Record<string, HealthCheck>, timeoutMs: number): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        await withTimeout(Promise.resolve().then(check), timeoutMs);
        return [name, { ok: true, ms: elapsed(started) }];
      } catch (error) {
        return [name, { ok: false, ms: elapsed(started), error: describeError(error) }];
      }
    }),
  );
  const results = Object.fromEntries(entries);
  return { status: entries.every(([, r]) => r.ok) ? "ok" : "fail", checks: results };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
