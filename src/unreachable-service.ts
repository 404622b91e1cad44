// One plain line for a service that is not there — which one, where, why, and
// what to start — for the places a person reads (the demo, the worker's log)
// instead of a stack trace. Never shows a user name or password.

export type ServiceName = "Postgres" | "Redis";

export interface UnreachableService {
  service: ServiceName;
  /** The connection URL; only its host and port are shown. */
  url: string;
  /** Why, in words: from `unreachableReason`. */
  reason: string;
}

/** Connection-level failures, as Node, postgres.js and Postgres name them, in words. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ETIMEDOUT: "timed out",
  CONNECT_TIMEOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  CONNECTION_CLOSED: "connection closed",
  CONNECTION_ENDED: "connection closed",
  CONNECTION_DESTROYED: "connection closed",
  "57P03": "the database system is starting up",
};

const DEFAULT_PORTS: Record<ServiceName, string> = { Postgres: "5432", Redis: "6379" };
const COMPOSE_SERVICES: Record<ServiceName, string> = { Postgres: "postgres", Redis: "redis" };

/**
 * Why `error` means the service cannot be reached ("connection refused", "host
 * not found", …), or undefined when it is something else — a wrong password or
 * a missing table is not fixed by starting anything. Looks through `cause` (our
 * migration error wraps the driver's) and AggregateError's `errors`.
 */
export function unreachableReason(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && REASONS[code]) return REASONS[code];
    const first = (e as { errors?: unknown[] }).errors?.[0];
    e = (e as { cause?: unknown }).cause ?? first;
  }
  return undefined;
}

/** `host:port` of a service URL (the default port when the URL names none), never the user or password. */
export function serviceAddress(service: ServiceName, url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || DEFAULT_PORTS[service]}`;
  } catch {
    return "(unparseable URL)";
  }
}

function isLocal(service: ServiceName, url: string): boolean {
  const host = serviceAddress(service, url).replace(/:\d+$/, "");
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host === "::1";
}

/**
 * `cannot reach Postgres at 127.0.0.1:5432 (connection refused) — start it (e.g. docker compose up -d postgres)`;
 * for several services, one line naming each. A service on another host gets
 * "is it running and reachable from here?" instead of a command to run here.
 */
export function unreachableMessage(services: UnreachableService[]): string {
  const what = services.map(({ service, url, reason }) => `${service} at ${serviceAddress(service, url)} (${reason})`).join(" and ");
  const them = services.length > 1 ? "them" : "it";
  if (!services.every(({ service, url }) => isLocal(service, url))) return `cannot reach ${what} — is ${them} running and reachable from here?`;
  const compose = services.map(({ service }) => COMPOSE_SERVICES[service]).sort().join(" ");
  return `cannot reach ${what} — start ${them} (e.g. docker compose up -d ${compose})`;
}
