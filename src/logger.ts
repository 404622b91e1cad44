// One structured logger (pino) for the producer, the worker and the CLI.
// Nothing logged carries a secret: connection URLs are logged by host only.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, name = "llm-tracker"): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** `host:port/db` of a connection URL, without user or password, for logs and errors. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

/** An error as one short line for a log or an HTTP answer, with any `user:password@` in a URL blanked out. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return message.replace(/\/\/[^\s/@]*@/g, "//***@").split("\n")[0]!.slice(0, 300);
}
