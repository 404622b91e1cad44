import OpenAI from "openai";
import { readFileSync } from "node:fs";
import { configure, trackOpenAI, shutdown } from "../dist/src/index.js";
import { getDefaultProducer } from "../dist/src/usage/default-producer.js";
const sse = readFileSync("test/fixtures/openai/stream-basic.sse", "utf8");
const json = readFileSync("test/fixtures/openai/chat-completion-basic.json", "utf8");
const fetchCanned = async (_u: unknown, init: any) => String(init.body).includes('"stream":true') ? new Response(sse, { status: 200, headers: { "content-type": "text/event-stream" } }) : new Response(json, { status: 200, headers: { "content-type": "application/json" } });
configure({ REDIS_URL: "redis://127.0.0.1:6379", LLM_TRACKER_QUEUE: "bench-canned-tmp", LLM_TRACKER_HANDLE_SIGNALS: false, LLM_TRACKER_LOG_LEVEL: "warn" });
const producer = getDefaultProducer();
if (process.argv[2] === "nopush") (producer as any).push = () => {};
const mk = () => new OpenAI({ apiKey: "sk-x", baseURL: "http://127.0.0.1:1/v1", fetch: fetchCanned as any, maxRetries: 0 });
const a = mk(), t = trackOpenAI(mk(), { nodeName: "x" });
const m = [{ role: "user" as const, content: "hi" }];
const streamAsk = async (c: OpenAI) => { const s = await c.chat.completions.create({ model: "m", messages: m, stream: true, stream_options: { include_usage: true } }); for await (const _ of s); };
const streamHide = async (c: OpenAI) => { const s = await c.chat.completions.create({ model: "m", messages: m, stream: true }); for await (const _ of s); };
async function batch(f: () => Promise<unknown>, n: number) { const s = performance.now(); for (let i = 0; i < n; i++) await f(); const us = ((performance.now() - s) * 1000) / n; await producer.flush(); return us; }
for (const [name, f, g] of [["stream (caller asked usage)", streamAsk, streamAsk], ["stream (wrapper asks, hides)", streamAsk, streamHide]] as const) {
  const A: number[] = [], T: number[] = [];
  for (let r = 0; r < 14; r++) { if (r % 2) { A.push(await batch(() => f(a), 300)); T.push(await batch(() => g(t), 300)); } else { T.push(await batch(() => g(t), 300)); A.push(await batch(() => f(a), 300)); } }
  A.sort((x, y) => x - y); T.sort((x, y) => x - y);
  console.log(name, "bare", A[7]!.toFixed(1), "tracked", T[7]!.toFixed(1), "diff", (T[7]! - A[7]!).toFixed(1));
}
await shutdown();
