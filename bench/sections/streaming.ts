// Streamed call overhead: LLMTracker.streamAndTrack vs the raw openai SDK stream on the same
// fake server (in a child process), interleaved call by call, timed to the first text delta
// and to the end. Two stream lengths (the recorded 14-delta stream and a 1,000-delta one) split
// the added time into a per-stream and a per-chunk part.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { configure, resetConfiguration } from "../../src/config/settings.js";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { OpenAIStreamAccumulator } from "../../src/providers/openai/openai-stream-accumulator.js";
import type { LlmService } from "../../src/providers/types.js";
import { getDefaultProducer, shutdown } from "../../src/usage/default-producer.js";
import { streamAndTrack } from "../../src/usage/stream-and-track.js";
import { LLMTracker } from "../../src/usage/tracker.js";
import { loadSse, sseEvents } from "../../test/fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../../test/support/services.js";
import { obliterateQueue, testQueueName } from "../../test/support/test-queue.js";
import { spawnTs } from "../support/child-process.js";
import { fmt, percentile, sortedCopy, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";

const FAKE_PROVIDER = fileURLToPath(new URL("../support/fake-provider-process.ts", import.meta.url));
const MESSAGES = [{ role: "user" as const, content: "Why do tides rise and fall?" }];
const API_KEY = "sk-bench-not-a-secret";
const MODEL = "gpt-4.1-mini";
const MAX_TOKENS = 4096;
const LONG_DELTAS = 1_000;

/**
 * The recorded stream with its text chunks repeated to `deltas` of them (same framing, same
 * role, finish and usage chunks), so the only difference from the short one is the chunk count.
 */
function longStream(deltas: number): string {
  const events = sseEvents(loadSse("openai/stream-basic"));
  const role = events[0]!;
  const texts = events.slice(1, -3);
  const tail = events.slice(-3);
  const body = Array.from({ length: deltas }, (_, i) => texts[i % texts.length]!);
  return [role, ...body, ...tail].join("");
}

/** The chunk objects the SDK yields for an SSE body (`[DONE]` left out). */
function chunksOf(sse: string): ChatCompletionChunk[] {
  return sseEvents(sse)
    .map((event) => event.trim())
    .filter((event) => event.startsWith("data:") && event !== "data: [DONE]")
    .map((event) => JSON.parse(event.slice("data:".length)) as ChatCompletionChunk);
}

interface Timing {
  firstMs: number;
  endMs: number;
}

interface StreamTimings {
  tracked: Timing[];
  rawA: Timing[];
  rawB: Timing[];
}

/** Calls interleaved raw A → tracked → raw B, rotating, with the producer's send settled between calls (as in call-path). */
async function timeStreams(calls: number, tracked: () => Promise<Timing>, raw: () => Promise<Timing>, settle: () => Promise<void>): Promise<StreamTimings> {
  const timings: StreamTimings = { tracked: [], rawA: [], rawB: [] };
  const steps: [keyof StreamTimings, () => Promise<Timing>][] = [
    ["rawA", raw],
    ["tracked", tracked],
    ["rawB", raw],
  ];
  for (let i = 0; i < calls; i += 1) {
    for (let k = 0; k < steps.length; k += 1) {
      const [kind, call] = steps[(i + k) % steps.length]!;
      timings[kind].push(await call());
      await settle();
    }
  }
  return timings;
}

interface Summary {
  /** p50 of tracked − p50 of raw, in µs. */
  addedFirst: number;
  addedEnd: number;
  /**
   * Median of the paired differences, tracked − the mean of the raw calls around it, in µs:
   * steadier than the difference of medians when the machine's speed drifts during the run.
   */
  pairedFirst: number;
  pairedEnd: number;
  rawFirst: number;
  rawEnd: number;
  /** p50(raw B) − p50(raw A) at the end, in µs: the noise floor / spill-over. */
  control: number;
}

function summarise(t: StreamTimings): Summary {
  const p50 = (values: number[]) => percentile(sortedCopy(values), 50) * 1000;
  const raw = [...t.rawA, ...t.rawB];
  const paired = (pick: (x: Timing) => number) => p50(t.tracked.map((x, i) => pick(x) - (pick(t.rawA[i]!) + pick(t.rawB[i]!)) / 2));
  return {
    addedFirst: p50(t.tracked.map((x) => x.firstMs)) - p50(raw.map((x) => x.firstMs)),
    addedEnd: p50(t.tracked.map((x) => x.endMs)) - p50(raw.map((x) => x.endMs)),
    pairedFirst: paired((x) => x.firstMs),
    pairedEnd: paired((x) => x.endMs),
    rawFirst: p50(raw.map((x) => x.firstMs)),
    rawEnd: p50(raw.map((x) => x.endMs)),
    control: p50(t.rawB.map((x) => x.endMs)) - p50(t.rawA.map((x) => x.endMs)),
  };
}

const streaming: BenchSection = {
  title: "streaming",
  async run({ quick }) {
    const shortCalls = quick ? 300 : 1_500;
    const longCalls = quick ? 60 : 300;
    const queueName = testQueueName();
    const dir = await mkdtemp(join(tmpdir(), "llmt-bench-stream-"));
    const longFile = join(dir, "long.sse");
    await writeFile(longFile, longStream(LONG_DELTAS));
    const shortServer = spawnTs(FAKE_PROVIDER);
    const longServer = spawnTs(FAKE_PROVIDER, [], { FAKE_PROVIDER_STREAMS: JSON.stringify({ openaiStream: longFile }) });
    try {
      const shortUrl = (await shortServer.waitForLine(/^listening /)).slice("listening ".length);
      const longUrl = (await longServer.waitForLine(/^listening /)).slice("listening ".length);
      const settings = (url: string) => ({
        LLM_PROVIDER: "openai" as const,
        OPENAI_CONFIG: { api_key: API_KEY, base_url: `${url}/v1`, model: MODEL, max_tokens: MAX_TOKENS },
        REDIS_URL: TEST_REDIS_URL,
        LLM_TRACKER_QUEUE: queueName,
        LLM_TRACKER_SPOOL_DIR: join(dir, "spool"),
        LLM_TRACKER_HANDLE_SIGNALS: false,
        LLM_TRACKER_LOG_LEVEL: "warn",
      });

      const measure = async (url: string, calls: number, expectedDeltas: number) => {
        configure(settings(url));
        const client = new OpenAI({ apiKey: API_KEY, baseURL: `${url}/v1` });
        // The raw consumer does what any consumer does: take each chunk's text.
        const raw = async (): Promise<Timing> => {
          const start = performance.now();
          let first = 0;
          let deltas = 0;
          const stream = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_completion_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true } });
          for await (const chunk of stream) {
            const text = chunk.choices[0]?.delta?.content;
            if (text) {
              if (deltas === 0) first = performance.now() - start;
              deltas += 1;
            }
          }
          if (deltas !== expectedDeltas) throw new Error(`raw stream: ${deltas} deltas, expected ${expectedDeltas}`);
          return { firstMs: first, endMs: performance.now() - start };
        };
        const tracked = async (): Promise<Timing> => {
          const start = performance.now();
          let first = 0;
          let deltas = 0;
          const stream = await LLMTracker.streamAndTrack({ messages: MESSAGES, nodeName: "bench-stream", state: { user_id: "bench-user" } });
          for await (const text of stream) {
            if (deltas === 0) first = performance.now() - start;
            deltas += text === "" ? 0 : 1;
          }
          await stream.result;
          if (deltas !== expectedDeltas) throw new Error(`tracked stream: ${deltas} deltas, expected ${expectedDeltas}`);
          return { firstMs: first, endMs: performance.now() - start };
        };
        const producer = getDefaultProducer();
        const settle = async () => {
          while (producer.stats().buffered > 0) await new Promise((resolve) => setImmediate(resolve));
          await new Promise((resolve) => setTimeout(resolve, 0));
        };
        await timeStreams(Math.ceil(calls / 8), tracked, raw, settle); // warm-up
        const timings = await timeStreams(calls, tracked, raw, settle);
        await producer.flush();
        return { summary: summarise(timings), producer };
      };

      const short = await measure(shortUrl, shortCalls, 14);
      const long = await measure(longUrl, longCalls, LONG_DELTAS);

      // The tracker's own cost without HTTP: the same parsed chunks from memory, through the
      // real accumulator, TrackedStream and producer, vs a raw loop over the same chunks.
      const inMemory = async (sse: string, calls: number, expectedDeltas: number) => {
        const chunks = chunksOf(sse);
        async function* sdkStream() {
          for (const chunk of chunks) yield chunk;
        }
        const service = {
          provider: "openai",
          openStream: async () => ({ chunks: sdkStream(), accumulator: new OpenAIStreamAccumulator(MODEL), cancel: () => {}, release: () => {}, isProviderError: () => false }),
        } as unknown as LlmService;
        const producer = getDefaultProducer();
        const deps = { service: () => service, producer: () => producer };
        const raw = async (): Promise<Timing> => {
          const start = performance.now();
          let deltas = 0;
          for await (const chunk of sdkStream()) if (chunk.choices[0]?.delta?.content) deltas += 1;
          if (deltas !== expectedDeltas) throw new Error(`in-memory raw: ${deltas} deltas`);
          return { firstMs: 0, endMs: performance.now() - start };
        };
        const tracked = async (): Promise<Timing> => {
          const start = performance.now();
          let deltas = 0;
          const stream = await streamAndTrack({ messages: MESSAGES, nodeName: "bench-stream-memory", state: { user_id: "bench-user" } }, deps);
          for await (const text of stream) deltas += text === "" ? 0 : 1;
          await stream.result;
          if (deltas !== expectedDeltas) throw new Error(`in-memory tracked: ${deltas} deltas`);
          return { firstMs: 0, endMs: performance.now() - start };
        };
        const settle = async () => {
          while (producer.stats().buffered > 0) await new Promise((resolve) => setImmediate(resolve));
          await new Promise((resolve) => setTimeout(resolve, 0));
        };
        await timeStreams(Math.ceil(calls / 8), tracked, raw, settle);
        return summarise(await timeStreams(calls, tracked, raw, settle));
      };
      const memoryShort = await inMemory(loadSse("openai/stream-basic"), quick ? 1_000 : 4_000, 14);
      const memoryLong = await inMemory(longStream(LONG_DELTAS), quick ? 200 : 800, LONG_DELTAS);
      const memoryPerChunk = (memoryLong.pairedEnd - memoryShort.pairedEnd) / (LONG_DELTAS - 14);
      console.log(
        `streaming, in memory: 14-delta raw p50 ${fmt.us(memoryShort.rawEnd)}, added p50 ${fmt.us(memoryShort.addedEnd)} (paired ${fmt.us(memoryShort.pairedEnd)}); ` +
          `${LONG_DELTAS}-delta raw p50 ${fmt.us(memoryLong.rawEnd)}, added p50 ${fmt.us(memoryLong.addedEnd)} (paired ${fmt.us(memoryLong.pairedEnd)})`,
      );
      const perChunk = (long.summary.pairedEnd - short.summary.pairedEnd) / (LONG_DELTAS - 14);
      const stats = long.producer.stats();
      console.log(
        `streaming: ${shortCalls} short (14 deltas) and ${longCalls} long (${LONG_DELTAS} deltas) streams each; ` +
          `short raw p50 first ${fmt.us(short.summary.rawFirst)} end ${fmt.us(short.summary.rawEnd)}, added first ${fmt.us(short.summary.addedFirst)} end ${fmt.us(short.summary.addedEnd)} (raw B − raw A ${fmt.us(short.summary.control)}); ` +
          `long raw p50 end ${fmt.us(long.summary.rawEnd)}, added end ${fmt.us(long.summary.addedEnd)} (raw B − raw A ${fmt.us(long.summary.control)}); producer ${stats.queued} queued, ${stats.spooled} spooled, ${stats.lost} lost`,
      );
      return [
        {
          figure: "streamAndTrack added p50 to the first delta (14-delta stream)",
          value: fmt.us(short.summary.addedFirst),
          baseline: `raw SDK stream p50 ${fmt.us(short.summary.rawFirst)}`,
          target: "≤ 50 µs",
          verdict: verdict(short.summary.addedFirst <= 50),
        },
        {
          figure: "streamAndTrack added p50 to the end, per stream (14-delta stream)",
          value: fmt.us(short.summary.addedEnd),
          baseline: `raw SDK stream p50 ${fmt.us(short.summary.rawEnd)}; raw B − raw A ${fmt.us(short.summary.control)}`,
          target: "≤ 50 µs",
          verdict: verdict(short.summary.addedEnd <= 50),
        },
        {
          figure: "streamAndTrack added to the end, median of paired differences (14-delta stream)",
          value: fmt.us(short.summary.pairedEnd),
          baseline: `to the first delta ${fmt.us(short.summary.pairedFirst)}`,
          target: "≤ 50 µs",
          verdict: verdict(short.summary.pairedEnd <= 50),
        },
        {
          figure: `streamAndTrack added p50 to the end (${LONG_DELTAS.toLocaleString("en-US")}-delta stream)`,
          value: fmt.us(long.summary.addedEnd),
          baseline: `raw SDK stream p50 ${fmt.us(long.summary.rawEnd)}; paired median ${fmt.us(long.summary.pairedEnd)}; raw B − raw A ${fmt.us(long.summary.control)}`,
          target: "info",
          verdict: "",
        },
        {
          figure: "streamAndTrack added per chunk ((long − short paired medians) / extra chunks)",
          value: `${perChunk.toFixed(2)} µs`,
          baseline: `raw SDK ${((long.summary.rawEnd - short.summary.rawEnd) / (LONG_DELTAS - 14)).toFixed(2)} µs per chunk`,
          target: "≤ 1 µs",
          verdict: verdict(perChunk <= 1),
        },
        {
          figure: "tracker's own cost per stream, chunks from memory (no HTTP; 14 deltas, paired median)",
          value: fmt.us(memoryShort.pairedEnd),
          baseline: `raw loop over the same chunks p50 ${fmt.us(memoryShort.rawEnd)}`,
          target: "≤ 50 µs",
          verdict: verdict(memoryShort.pairedEnd <= 50),
        },
        {
          figure: "tracker's own cost per chunk, chunks from memory (no HTTP)",
          value: `${memoryPerChunk.toFixed(2)} µs`,
          baseline: `raw loop ${((memoryLong.rawEnd - memoryShort.rawEnd) / (LONG_DELTAS - 14)).toFixed(2)} µs per chunk`,
          target: "≤ 1 µs",
          verdict: verdict(memoryPerChunk <= 1),
        },
      ];
    } finally {
      await shutdown();
      resetConfiguration();
      await shortServer.stop();
      await longServer.stop();
      await obliterateQueue(queueName);
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default streaming;
