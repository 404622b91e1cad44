// A local HTTP server that speaks the OpenAI, Azure OpenAI and Gemini wire formats,
// so tests, the demo and the benchmarks drive the real SDKs without the network.
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One reply the server will serve; `body` is sent as JSON unless it is a string (sent as is). */
export interface FakeReply {
  /** Default 200. */
  status?: number;
  /** Merged over `content-type: application/json`. */
  headers?: Record<string, string>;
  body: unknown;
  /** Wait this long before answering. Default 0. */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** The pathname, without the query string. */
  path: string;
  /** The query string including '?', or ''. */
  search: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (the raw text when it is not JSON, undefined when empty). */
  body: unknown;
}

export interface FakeProvider {
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** Every request, in order (empty when started with `recordRequests: false`). */
  requests: RecordedRequest[];
  /** Queues the next replies, served in order for any route; when none is queued the route's default reply is served. */
  enqueue(...replies: FakeReply[]): void;
  /** Stops the server and drops kept-alive connections. Idempotent. */
  close(): Promise<void>;
}

const fixturesDir = new URL("../fixtures/", import.meta.url);

/** Reads `test/fixtures/<name>.json`, e.g. `loadFixture("openai/chat-completion-basic")`. */
export function loadFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixturesDir), "utf8"));
}

type Route = "openai" | "azure" | "gemini";

// The routes the SDKs call; each has a plain successful default reply.
function routeOf(method: string, path: string): Route | undefined {
  if (method !== "POST") return undefined;
  if (path === "/v1/chat/completions" || path === "/openai/v1/chat/completions") return "openai";
  if (/^\/openai\/deployments\/[^/]+\/chat\/completions$/.test(path)) return "azure";
  if (/^\/v1beta\/models\/[^/]+:generateContent$/.test(path)) return "gemini";
  return undefined;
}

interface PreparedReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  delayMs: number;
}

const JSON_HEADERS = { "content-type": "application/json" };

function prepare(reply: FakeReply): PreparedReply {
  return {
    status: reply.status ?? 200,
    headers: { ...JSON_HEADERS, ...reply.headers },
    body: typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body),
    delayMs: reply.delayMs ?? 0,
  };
}

// Serialised once: the benchmarks hit these tens of thousands of times.
function defaultReplies(): Record<Route | "notFound", PreparedReply> {
  const serialised = (body: unknown): PreparedReply => ({ status: 200, headers: JSON_HEADERS, body: Buffer.from(JSON.stringify(body)), delayMs: 0 });
  return {
    openai: serialised(loadFixture("openai/chat-completion-basic")),
    azure: serialised(loadFixture("azure/chat-completion-basic")),
    gemini: serialised(loadFixture("gemini/generate-content-basic")),
    notFound: { ...serialised({ error: { message: "fake provider: no such route", type: "invalid_request_error", code: "not_found" } }), status: 404 },
  };
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Starts the fake provider on 127.0.0.1 on a free port. */
export async function startFakeProvider(options: { recordRequests?: boolean } = {}): Promise<FakeProvider> {
  const record = options.recordRequests ?? true;
  const defaults = defaultReplies();
  const queue: PreparedReply[] = [];
  const requests: RecordedRequest[] = [];
  const delayed = new Set<NodeJS.Timeout>();

  const send = (res: ServerResponse, reply: PreparedReply) => {
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, bodyText: string) => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const search = q === -1 ? "" : rawUrl.slice(q);
    const method = req.method ?? "GET";
    if (record) requests.push({ method, path, search, headers: req.headers, body: parseBody(bodyText) });
    const route = routeOf(method, path);
    const reply = queue.shift() ?? (route ? defaults[route] : defaults.notFound);
    if (reply.delayMs === 0) return send(res, reply);
    const timer = setTimeout(() => {
      delayed.delete(timer);
      send(res, reply);
    }, reply.delayMs);
    delayed.add(timer);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, record ? Buffer.concat(chunks).toString("utf8") : ""));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue(...replies) {
      queue.push(...replies.map(prepare));
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        // Replies still waiting out their delay are dropped with their connections.
        for (const timer of delayed) clearTimeout(timer);
        delayed.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
