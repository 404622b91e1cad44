// Quick measurement (not a test, not a section): the tracker's own cost per stream and per
// chunk, warm, with no HTTP and no Redis: streamAndTrack over parsed chunks from memory with a
// no-op producer, against a raw loop over the same chunks, alternating, without yielding to
// the event loop between calls. Run: npx tsx bench/stream-overhead.ts [calls=4000]
import { configure } from "../src/config/settings.js";
import { OpenAIStreamAccumulator } from "../src/providers/openai/openai-stream-accumulator.js";
import type { LlmService } from "../src/providers/types.js";
import { streamAndTrack } from "../src/usage/stream-and-track.js";
import type { UsageProducer } from "../src/usage/producer.js";
import { loadSse, sseEvents } from "../test/fake-provider/fake-provider.js";
import { percentile, sortedCopy } from "./support/figures.js";

const calls = Number(process.argv[2] ?? 4_000);
configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: "sk-bench-not-a-secret", base_url: "http://127.0.0.1:9/v1" } });
const producer = { push() {} } as unknown as UsageProducer;
const messages = [{ role: "user" as const, content: "Why do tides rise and fall?" }];

async function measure(deltas: number) {
  const events = sseEvents(loadSse("openai/stream-basic"));
  const chunks = [events[0]!, ...Array.from({ length: deltas }, (_, i) => events[1 + (i % 14)]!), ...events.slice(-3, -1)].map((event) => JSON.parse(event.trim().slice("data:".length)) as { choices: { delta?: { content?: string } }[] });
  async function* sdkStream() {
    for (const chunk of chunks) yield chunk;
  }
  const service = { provider: "openai", openStream: async () => ({ chunks: sdkStream(), accumulator: new OpenAIStreamAccumulator("m"), cancel() {}, release() {}, isProviderError: () => false }) } as unknown as LlmService;
  const deps = { service: () => service, producer: () => producer };
  const raw: number[] = [];
  const tracked: number[] = [];
  for (let i = 0; i < calls + calls / 8; i += 1) {
    let start = performance.now();
    for await (const chunk of sdkStream()) chunk.choices[0]?.delta?.content;
    const r = (performance.now() - start) * 1000;
    start = performance.now();
    const stream = await streamAndTrack({ messages, nodeName: "bench" }, deps);
    for await (const _ of stream);
    await stream.result;
    const t = (performance.now() - start) * 1000;
    if (i >= calls / 8) {
      raw.push(r);
      tracked.push(t);
    }
  }
  return { raw: percentile(sortedCopy(raw), 50), paired: percentile(sortedCopy(tracked.map((t, i) => t - raw[i]!)), 50) };
}

const short = await measure(14);
const long = await measure(1_000);
console.log(`14 deltas: raw p50 ${short.raw.toFixed(1)} µs, tracked − raw (paired median) ${short.paired.toFixed(1)} µs`);
console.log(`1,000 deltas: raw p50 ${long.raw.toFixed(1)} µs, tracked − raw (paired median) ${long.paired.toFixed(1)} µs`);
console.log(`per chunk: ${((long.paired - short.paired) / 986).toFixed(2)} µs`);
