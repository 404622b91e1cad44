// The SDK wrappers' overhead: a trackOpenAI client vs the bare openai client on the same
// fake server (in a child process), with a second bare client as the control, each iteration
// in a random order. Langfuse's observeOpenAI (v5, with its OpenTelemetry span processor on
// its own tracer provider) runs beside them as the field's reference.
// The wrapper is the compiled package (bench/results/worker-build), as users run it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { observeOpenAI } from "@langfuse/openai";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { setLangfuseTracerProvider } from "@langfuse/tracing";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import OpenAI from "openai";
import { buildWorker } from "../support/build-worker.js";
import { TEST_REDIS_URL } from "../../test/support/services.js";
import { obliterateQueue, testQueueName } from "../../test/support/test-queue.js";
import { spawnTs } from "../support/child-process.js";
import { fmt, percentile, sortedCopy, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";

const FAKE_PROVIDER = fileURLToPath(new URL("../support/fake-provider-process.ts", import.meta.url));
const API_KEY = "sk-bench-not-a-secret";
const MESSAGES = [{ role: "user" as const, content: "Say hello." }];

type Kind = "bareA" | "bareB" | "tracked" | "langfuse";
type Timings = Record<Kind, number[]>;

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Each iteration runs every kind once, in a fresh random order; between two calls the background work of the last one settles. */
async function time(iterations: number, calls: Record<Kind, () => Promise<unknown>>, settle: () => Promise<void>): Promise<Timings> {
  const timings: Timings = { bareA: [], bareB: [], tracked: [], langfuse: [] };
  const kinds = Object.keys(calls) as Kind[];
  for (let i = 0; i < iterations; i += 1) {
    for (const kind of shuffled(kinds)) {
      const start = performance.now();
      await calls[kind]();
      timings[kind].push((performance.now() - start) * 1000);
      await settle();
    }
  }
  return timings;
}

function figures(label: string, t: Timings, target: number): Row[] {
  const p50 = (values: number[]) => percentile(sortedCopy(values), 50);
  const bare = p50([...t.bareA, ...t.bareB]);
  const added = p50(t.tracked) - bare;
  const paired = p50(t.tracked.map((value, i) => value - (t.bareA[i]! + t.bareB[i]!) / 2));
  const control = p50(t.bareB) - p50(t.bareA);
  const langfuse = p50(t.langfuse) - bare;
  console.log(
    `${label}: ${t.tracked.length} iterations; bare p50 ${fmt.us(bare)} (A ${fmt.us(p50(t.bareA))}, B ${fmt.us(p50(t.bareB))}); ` +
      `trackOpenAI p50 ${fmt.us(p50(t.tracked))}; Langfuse observeOpenAI p50 ${fmt.us(p50(t.langfuse))}`,
  );
  return [
    { figure: `trackOpenAI added p50, ${label} (median tracked − median bare)`, value: fmt.us(added), baseline: `bare p50 ${fmt.us(bare)}; control B − A ${fmt.us(control)}`, target: `≤ ${target} µs`, verdict: verdict(added <= target) },
    { figure: `trackOpenAI added, ${label}, median of paired differences`, value: fmt.us(paired), baseline: `control B − A ${fmt.us(control)}`, target: `≤ ${target} µs`, verdict: verdict(paired <= target) },
    { figure: `Langfuse observeOpenAI (v5 + span processor) added p50, ${label}`, value: fmt.us(langfuse), baseline: `bare p50 ${fmt.us(bare)}`, target: "info", verdict: "" },
  ];
}

const wrappers: BenchSection = {
  title: "SDK wrappers",
  async run({ quick }) {
    // Over HTTP a call's time spreads over ~1 ms (p25–p75); the p50 of n calls moves by ~1.25 × IQR / (1.35 √n): 5,000 keep it near 13 µs (a difference of two p50s: ~18 µs).
    const iterations = quick ? 800 : 5_000;
    const streamIterations = quick ? 300 : 5_000;
    // The package as it ships (tsc output, no tsx in its frames), the way the worker is benchmarked.
    const dist = dirname(dirname(await buildWorker()));
    const load = <T>(path: string) => import(pathToFileURL(join(dist, path)).href) as Promise<T>;
    const { configure, shutdown, trackOpenAI } = await load<typeof import("../../src/index.js")>("index.js");
    const { resetConfiguration } = await load<typeof import("../../src/config/settings.js")>("config/settings.js");
    const { getDefaultProducer } = await load<typeof import("../../src/usage/default-producer.js")>("usage/default-producer.js");
    const { pendingRecordCount } = await load<typeof import("../../src/usage/deferred-recording.js")>("usage/deferred-recording.js");
    const queueName = testQueueName();
    const spoolDir = await mkdtemp(join(tmpdir(), "llmt-bench-wrap-spool-"));
    const fake = spawnTs(FAKE_PROVIDER);
    const langfuseProvider = new BasicTracerProvider({
      // Its exporter posts to a closed loopback port: the spans are made, batched and exported as in production, nothing leaves the machine.
      spanProcessors: [new LangfuseSpanProcessor({ publicKey: "pk-lf-bench", secretKey: "sk-lf-bench", baseUrl: "http://127.0.0.1:9" })],
    });
    try {
      const url = (await fake.waitForLine(/^listening /)).slice("listening ".length);
      configure({ REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_SPOOL_DIR: spoolDir, LLM_TRACKER_HANDLE_SIGNALS: false, LLM_TRACKER_LOG_LEVEL: "warn" });
      const client = () => new OpenAI({ apiKey: API_KEY, baseURL: `${url}/v1`, maxRetries: 0 });
      const bareA = client();
      const bareB = client();
      const tracked = trackOpenAI(client(), { nodeName: "bench", state: { user_id: "bench-user" } });
      // Langfuse on its own tracer provider, so our wrapper's OpenTelemetry lookup still finds none registered.
      setLangfuseTracerProvider(langfuseProvider);
      const langfuse = observeOpenAI(client(), { generationName: "bench", userId: "bench-user" });

      const producer = getDefaultProducer();
      const settle = async () => {
        // The last call's event is built on the next turn of the event loop, then sent: both settle here.
        while (pendingRecordCount() > 0 || producer.stats().buffered > 0) await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setTimeout(resolve, 0));
      };
      const chat = (c: OpenAI) => () => c.chat.completions.create({ model: "gpt-4.1-mini", messages: MESSAGES });
      const chatCalls = { bareA: chat(bareA), bareB: chat(bareB), tracked: chat(tracked), langfuse: chat(langfuse) };
      await time(Math.ceil(iterations / 8), chatCalls, settle); // warm-up: JIT, keep-alive sockets, the producer's connection
      const chatTimings = await time(iterations, chatCalls, settle);

      // A whole stream read to its end (16 chunks), usage asked for by the caller in every client alike.
      const stream = (c: OpenAI) => async () => {
        const s = await c.chat.completions.create({ model: "gpt-4.1-mini", messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
        for await (const _ of s);
      };
      const streamCalls = { bareA: stream(bareA), bareB: stream(bareB), tracked: stream(tracked), langfuse: stream(langfuse) };
      await time(Math.ceil(streamIterations / 8), streamCalls, settle);
      const streamTimings = await time(streamIterations, streamCalls, settle);

      await producer.flush();
      const stats = producer.stats();
      console.log(`producer: ${stats.queued} queued, ${stats.spooled} spooled, ${stats.lost} lost`);
      return [...figures("chat.completions.create", chatTimings, 20), ...figures("streamed chat, read to the end", streamTimings, 20)];
    } finally {
      setLangfuseTracerProvider(null);
      await langfuseProvider.shutdown().catch(() => {});
      await shutdown();
      resetConfiguration();
      await obliterateQueue(queueName);
      await fake.stop();
      await rm(spoolDir, { recursive: true, force: true });
    }
  },
};

export default wrappers;
