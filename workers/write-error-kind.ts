// Decides what a failed batch insert means: the data (isolate the bad rows) or
// the database being away (retry the same batch later, losing nothing).

export type WriteErrorKind = "data" | "transient" | "unexpected";

/** Node/postgres.js connection failures: the server is away or the link broke. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT",
]);

/** SQLSTATEs that pass with time: admin shutdown / crash / starting up, serialization and deadlock, lock timeouts. */
const TRANSIENT_STATES = new Set(["57P01", "57P02", "57P03", "40001", "40P01", "55P03", "57014"]);

/**
 * `data`: Postgres rejected a value (class 22 data exception, 23 integrity, 54
 * program limit such as an oversized jsonb) — bisecting finds the row.
 * `transient`: connection lost/refused, 08xxx, 53xxx (resources), the states above.
 * `unexpected`: anything else (missing table, permissions…) — retried as well,
 * since no single row is to blame and dropping the batch would lose events.
 */
export function classifyWriteError(error: unknown): WriteErrorKind {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== "string") return "unexpected";
  if (CONNECTION_CODES.has(code)) return "transient";
  // A row routed to the default partition while partition upkeep gave its day a
  // partition of its own (drizzle/0007): the default's constraint changed under the
  // statement. The same batch, written again, goes to the new partition.
  if (code === "23514" && (error as { table_name?: unknown }).table_name === "llm_tracker_usage_default") return "transient";
  if (code.length === 5) {
    const cls = code.slice(0, 2);
    if (cls === "22" || cls === "23" || cls === "54") return "data";
    if (cls === "08" || cls === "53" || TRANSIENT_STATES.has(code)) return "transient";
  }
  return "unexpected";
}

/** A short, value-free description for logs (the SQLSTATE or errno and the message's first line). */
export function describeWriteError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === "string" ? e.message.split("\n")[0]!.slice(0, 200) : String(error).slice(0, 200);
  return typeof e?.code === "string" ? `${e.code}: ${message}` : message;
}
