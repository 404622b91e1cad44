// A local HTTP server that speaks the OpenAI, Azure OpenAI and Gemini wire formats,
// so tests, the demo and the benchmarks drive the real SDKs without the network.
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * One reply the server will serve: `body` is sent as JSON unless it is a string (sent as is);
 * with `stream`, an SSE stream is sent instead.
 */
export interface FakeReply {
  /** Default 200. */
  status?: number;
  /** Merged over `content-type: application/json` (over `text/event-stream` for a stream). */
  headers?: Record<string, string>;
  body?: unknown;
  /** An SSE stream to send instead of `body`. */
  stream?: FakeStream;
  /** Wait this long before answering. Default 0. */
  delayMs?: number;
}

/** A streamed reply: the events of an SSE body, sent one write each, optionally cut short. */
export interface FakeStream {
  /** The SSE body, framed as the provider frames it (e.g. `loadSse("gemini/stream-basic")`). */
  sse: string;
  /**
   * Send only the first `after` events, then `close` (end the response cleanly), `drop`
   * (destroy the connection), or `stall` (keep the connection open and send nothing more,
   * until the client goes away or the server closes).
   */
  cut?: { after: number; then: "close" | "drop" | "stall" };
  /** Pause before each event after the first, in ms. Default 0 (all written at once). */
  eventDelayMs?: number;
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
  /** Connections of streams still being sent or stalled (a test waits for 0 to see that a client let go). */
  openStreams(): number;
  /** Stops the server and drops kept-alive connections. Idempotent. */
  close(): Promise<void>;
}

const fixturesDir = new URL("../fixtures/", import.meta.url);

/** Reads `test/fixtures/<name>.json`, e.g. `loadFixture("openai/chat-completion-basic")`. */
export function loadFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixturesDir), "utf8"));
}

/** Reads `test/fixtures/<name>.sse` as text, e.g. `loadSse("gemini/stream-basic")`. */
export function loadSse(name: string): string {
  return readFileSync(new URL(`${name}.sse`, fixturesDir), "utf8");
}

/** The events of an SSE body, each with the blank line that ends it (LF or CRLF, as framed). */
export function sseEvents(sse: string): string[] {
  return sse.match(/[\s\S]*?(?:\r\n\r\n|\n\n|\r\r|$)/g)!.filter((event) => event !== "");
}

type Route = "openai" | "azure" | "gemini" | "responses" | "embeddings" | "geminiEmbed";
type StreamRoute = "openaiStream" | "azureStream" | "geminiStream" | "responsesStream";

// The routes the SDKs call; each has a plain successful default reply. OpenAI and Azure
// stream on the same path (the body says `stream: true`); Gemini has its own method.
function routeOf(method: string, path: string): Route | "geminiStream" | undefined {
  if (method !== "POST") return undefined;
  // The Responses API (OpenAI, Azure v1) streams on its own path too, when the body says so.
  if (path === "/v1/responses" || path === "/openai/v1/responses") return "responses";
  if (path === "/v1/embeddings" || path === "/openai/v1/embeddings" || /^\/openai\/deployments\/[^/]+\/embeddings$/.test(path)) return "embeddings";
  // @google/genai's embedContent calls batchEmbedContents on the Gemini API.
  if (/^\/v1beta\/models\/[^/]+:batchEmbedContents$/.test(path)) return "geminiEmbed";
  if (path === "/v1/chat/completions" || path === "/openai/v1/chat/completions") return "openai";
  if (/^\/openai\/deployments\/[^/]+\/chat\/completions$/.test(path)) return "azure";
  if (/^\/v1beta\/models\/[^/]+:generateContent$/.test(path)) return "gemini";
  if (/^\/v1beta\/models\/[^/]+:streamGenerateContent$/.test(path)) return "geminiStream";
  return undefined;
}

interface PreparedReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  delayMs: number;
  stream?: { events: string[]; cut?: FakeStream["cut"]; eventDelayMs: number };
}

const JSON_HEADERS = { "content-type": "application/json" };
// What OpenAI and Azure send with a stream; Gemini's is the same type without the charset.
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

function prepare(reply: FakeReply): PreparedReply {
  if (reply.stream) {
    return {
      status: reply.status ?? 200,
      headers: { ...SSE_HEADERS, ...reply.headers },
      body: "",
      delayMs: reply.delayMs ?? 0,
      stream: { events: sseEvents(reply.stream.sse), cut: reply.stream.cut, eventDelayMs: reply.stream.eventDelayMs ?? 0 },
    };
  }
  return {
    status: reply.status ?? 200,
    headers: { ...JSON_HEADERS, ...reply.headers },
    body: typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body),
    delayMs: reply.delayMs ?? 0,
  };
}

// Serialised once: the benchmarks hit these tens of thousands of times.
function defaultReplies(streams: Partial<Record<StreamRoute, string>>): Record<Route | StreamRoute | "notFound", PreparedReply> {
  const serialised = (body: unknown): PreparedReply => ({ status: 200, headers: JSON_HEADERS, body: Buffer.from(JSON.stringify(body)), delayMs: 0 });
  const streamed = (sse: string, contentType?: string): PreparedReply => {
    const reply = prepare({ stream: { sse } });
    if (contentType) reply.headers = { ...reply.headers, "content-type": contentType };
    return reply;
  };
  return {
    openai: serialised(loadFixture("openai/chat-completion-basic")),
    azure: serialised(loadFixture("azure/chat-completion-basic")),
    gemini: serialised(loadFixture("gemini/generate-content-basic")),
    openaiStream: streamed(streams.openaiStream ?? loadSse("openai/stream-basic")),
    azureStream: streamed(streams.azureStream ?? loadSse("azure/stream-prompt-filter")),
    geminiStream: streamed(streams.geminiStream ?? loadSse("gemini/stream-basic"), "text/event-stream"),
    responses: serialised(loadFixture("openai/responses-basic")),
    responsesStream: streamed(streams.responsesStream ?? loadSse("openai/responses-stream")),
    embeddings: serialised(loadFixture("openai/embeddings-basic")),
    geminiEmbed: serialised(loadFixture("gemini/embed-content-basic")),
    notFound: { ...serialised({ error: { message: "fake provider: no such route", type: "invalid_request_error", code: "not_found" } }), status: 404 },
  };
}

/** The embeddings reply with each vector as little-endian float32 bytes in base64, as the API answers `encoding_format: "base64"`. */
function asBase64Embeddings(reply: PreparedReply): PreparedReply {
  const body = JSON.parse(reply.body.toString()) as { data: { embedding: number[] }[] };
  for (const item of body.data) item.embedding = Buffer.from(new Float32Array(item.embedding).buffer).toString("base64") as unknown as number[];
  return { ...reply, body: Buffer.from(JSON.stringify(body)) };
}

/** What a streamed chat completion request must ask for; the message of the 400 when it does not. */
function streamRequestProblem(body: unknown): string | null {
  const options = (body as { stream_options?: { include_usage?: unknown } } | undefined)?.stream_options;
  return options?.include_usage === true ? null : "fake provider: a streamed chat completion must ask for stream_options.include_usage";
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface FakeProviderOptions {
  /** Keep every request in `requests`. Default true. */
  recordRequests?: boolean;
  /**
   * Answer 400 to a streamed OpenAI/Azure chat completion that does not ask for
   * `stream_options.include_usage` (without it the provider sends no usage). Default true.
   */
  requireIncludeUsage?: boolean;
  /** SSE bodies served by default on the streaming routes (default: the basic stream fixtures). */
  defaultStreams?: Partial<Record<StreamRoute, string>>;
}

/** Starts the fake provider on 127.0.0.1 on a free port. */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const record = options.recordRequests ?? true;
  const requireIncludeUsage = options.requireIncludeUsage ?? true;
  const defaults = defaultReplies(options.defaultStreams ?? {});
  const base64Embeddings = asBase64Embeddings(defaults.embeddings);
  const queue: PreparedReply[] = [];
  const requests: RecordedRequest[] = [];
  const delayed = new Set<NodeJS.Timeout>();
  const streaming = new Set<ServerResponse>();

  const sendStream = (res: ServerResponse, reply: PreparedReply, stream: NonNullable<PreparedReply["stream"]>) => {
    res.writeHead(reply.status, reply.headers);
    streaming.add(res);
    res.on("close", () => streaming.delete(res));
    const count = stream.cut ? Math.min(stream.cut.after, stream.events.length) : stream.events.length;
    const finish = () => {
      if (!stream.cut || stream.cut.then === "close") res.end();
      // Only once the events sent are on the wire: destroying a socket drops what it still buffers.
      else if (stream.cut.then === "drop") res.write("", () => res.socket?.destroy());
      // "stall": leave the response open; the client or close() ends it.
    };
    if (stream.eventDelayMs === 0) {
      for (let i = 0; i < count; i++) res.write(stream.events[i]!);
      return finish();
    }
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      res.write(stream.events[i++]!);
      if (i >= count) return finish();
      const timer = setTimeout(() => {
        delayed.delete(timer);
        next();
      }, stream.eventDelayMs);
      delayed.add(timer);
    };
    if (count === 0) return finish();
    next();
  };

  const send = (res: ServerResponse, reply: PreparedReply) => {
    if (reply.stream) return sendStream(res, reply, reply.stream);
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, bodyText: string) => {
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const search = q === -1 ? "" : rawUrl.slice(q);
    const method = req.method ?? "GET";
    let route: Route | StreamRoute | undefined = routeOf(method, path);
    // OpenAI-style routes stream when the body says so; only then is the body parsed when not recording.
    const body = record || ((route === "openai" || route === "azure" || route === "responses") && bodyText.includes('"stream"')) ? parseBody(bodyText) : undefined;
    if (record) requests.push({ method, path, search, headers: req.headers, body });
    if ((route === "openai" || route === "azure") && (body as { stream?: unknown } | undefined)?.stream === true) {
      route = route === "openai" ? "openaiStream" : "azureStream";
      const problem = requireIncludeUsage ? streamRequestProblem(body) : null;
      if (problem) return send(res, prepare({ status: 400, body: { error: { message: problem, type: "invalid_request_error", param: "stream_options", code: null } } }));
    }
    if (route === "responses" && (body as { stream?: unknown } | undefined)?.stream === true) route = "responsesStream";
    let reply = queue.shift() ?? (route ? defaults[route] : defaults.notFound);
    // openai@6 asks for base64 embeddings unless the caller names a format; the API then sends each vector as base64 float32.
    if (route === "embeddings" && reply === defaults.embeddings && !bodyText.includes('"encoding_format":"float"')) reply = base64Embeddings;
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
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
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
    openStreams() {
      return streaming.size;
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
