// Target 1, call-path overhead: LLMTracker.callAndTrack vs the raw openai SDK on
// the same fake server (in a child process), interleaved call by call; then the
// tracker's own hand-off, LLMTracker.record(), timed call by call while the
// producer keeps sending to Redis.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { configure, getTrackerSettings, resetConfiguration } from "../../src/config/settings.js";
import { getDefaultProducer, shutdown } from "../../src/usage/default-producer.js";
import type { UsageProducer } from "../../src/usage/producer.js";
import { LLMTracker } from "../../src/usage/tracker.js";
import { freePort } from "../../test/support/free-port.js";
import { TEST_REDIS_URL } from "../../test/support/services.js";
import { obliterateQueue, testQueueName } from "../../test/support/test-queue.js";
import { benchRecord } from "../support/bench-event.js";
import { spawnTs } from "../support/child-process.js";
import { fmt, percentile, sortedCopy, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";

const FAKE_PROVIDER = fileURLToPath(new URL("../support/fake-provider-process.ts", import.meta.url));
const MESSAGES = [{ role: "user" as const, content: "Say hello." }];
const API_KEY = "sk-bench-not-a-secret";

/** Records handed over between two yields to the event loop (a burst of a busy server). */
const RECORD_BURST = 100;

interface CallTimings {
  tracked: number[];
  rawA: number[];
  rawB: number[];
}

/**
 * Calls interleaved call by call. Between two calls the producer's background send
 * of the previous event is allowed to finish (`settle`), so its cost lands on no
 * timed call: without this the raw call after each tracked one pays for it, and
 * the comparison flatters the tracker. The order rotates, but the cycle is always
 * raw A → tracked → raw B, so p50(B) − p50(A) shows what still spills over.
 */
async function timeCalls(calls: number, tracked: () => Promise<unknown>, raw: () => Promise<unknown>, settle: () => Promise<void>): Promise<CallTimings> {
  const timings: CallTimings = { tracked: [], rawA: [], rawB: [] };
  const steps: [keyof CallTimings, () => Promise<unknown>][] = [
    ["rawA", raw],
    ["tracked", tracked],
    ["rawB", raw],
  ];
  for (let i = 0; i < calls; i += 1) {
    // Rotate the order so no kind always follows another (connection reuse, GC debt).
    for (let k = 0; k < steps.length; k += 1) {
      const [kind, call] = steps[(i + k) % steps.length]!;
      const start = performance.now();
      await call();
      timings[kind].push((performance.now() - start) * 1000);
      await settle();
    }
  }
  return timings;
}

/**
 * Times each record() call. Between bursts the event loop runs (the producer
 * sends); while the producer holds more than half its buffer the "application"
 * waits, as a real one would be slower than this loop: the offered rate is the
 * producer's own ceiling, so sending competes with record() for the CPU all along.
 */
async function timeRecords(count: number, producer: UsageProducer, bufferSize: number): Promise<{ micros: Float64Array; seconds: number }> {
  const micros = new Float64Array(count);
  const started = performance.now();
  const options = Array.from({ length: RECORD_BURST }, (_, i) => benchRecord(i));
  for (let i = 0; i < count; i += 1) {
    const input = options[i % RECORD_BURST]!;
    const start = performance.now();
    LLMTracker.record(input);
    micros[i] = (performance.now() - start) * 1000;
    // Let the producer send between bursts, as it would between requests of a real server.
    if (i % RECORD_BURST === RECORD_BURST - 1) {
      await new Promise((resolve) => setImmediate(resolve));
      while (producer.stats().buffered > bufferSize / 2) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  return { micros, seconds: (performance.now() - started) / 1000 };
}

const callPath: BenchSection = {
  title: "call path",
  async run({ quick }) {
    const calls = quick ? 1_000 : 4_000;
    const records = quick ? 20_000 : 100_000;
    const queueName = testQueueName();
    const spoolDir = await mkdtemp(join(tmpdir(), "llmt-bench-spool-"));
    const fake = spawnTs(FAKE_PROVIDER);
    try {
      const url = (await fake.waitForLine(/^listening /)).slice("listening ".length);
      configure({
        LLM_PROVIDER: "openai",
        OPENAI_CONFIG: { api_key: API_KEY, base_url: `${url}/v1` },
        REDIS_URL: TEST_REDIS_URL,
        LLM_TRACKER_QUEUE: queueName,
        LLM_TRACKER_SPOOL_DIR: spoolDir,
        LLM_TRACKER_HANDLE_SIGNALS: false,
        LLM_TRACKER_LOG_LEVEL: "warn",
      });
      const raw = new OpenAI({ apiKey: API_KEY, baseURL: `${url}/v1` });
      const rawCall = () => raw.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, max_completion_tokens: 4096 });
      const trackedCall = () => LLMTracker.callAndTrack({ messages: MESSAGES, nodeName: "bench", state: { user_id: "bench-user" } });

      const producer = getDefaultProducer();
      // Until the event is on the queue, then one timer turn for the send's trailing callbacks.
      const settle = async () => {
        while (producer.stats().buffered > 0) await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setTimeout(resolve, 0));
      };
      await timeCalls(Math.ceil(calls / 8), trackedCall, rawCall, settle); // warm-up: JIT, keep-alive sockets, the producer's connection
      const t = await timeCalls(calls, trackedCall, rawCall, settle);
      const tracked = sortedCopy(t.tracked);
      const rawAll = sortedCopy([...t.rawA, ...t.rawB]);
      const rawA = sortedCopy(t.rawA);
      const rawB = sortedCopy(t.rawB);
      const p = (values: number[], q: number) => percentile(values, q);
      const addedP50 = p(tracked, 50) - p(rawAll, 50);
      const paired = sortedCopy(t.tracked.map((value, i) => value - (t.rawA[i]! + t.rawB[i]!) / 2));
      const addedP99 = p(tracked, 99) - p(rawAll, 99);
      const controlP99 = p(rawA, 99) - p(rawB, 99);
      console.log(
        `call path: ${calls} calls each; raw p50 ${fmt.us(p(rawAll, 50))} p99 ${fmt.us(p(rawAll, 99))}; ` +
          `tracked p50 ${fmt.us(p(tracked, 50))} p99 ${fmt.us(p(tracked, 99))}; raw A p50/p99 ${fmt.us(p(rawA, 50))}/${fmt.us(p(rawA, 99))}, raw B ${fmt.us(p(rawB, 50))}/${fmt.us(p(rawB, 99))}`,
      );

      const { bufferSize } = getTrackerSettings();
      await timeRecords(Math.ceil(records / 10), producer, bufferSize); // warm-up
      const recorded = await timeRecords(records, producer, bufferSize);
      const recordMicros = sortedCopy(Array.from(recorded.micros));
      await producer.flush();
      const stats = producer.stats();
      const handedOver = Math.ceil(calls / 8) * 1 + calls + Math.ceil(records / 10) + records;
      console.log(
        `record(): ${records} calls at ${fmt.rate(records / recorded.seconds)}; p50 ${fmt.us(p(recordMicros, 50))} p99 ${fmt.us(p(recordMicros, 99))} p99.9 ${fmt.us(p(recordMicros, 99.9))} max ${fmt.us(recordMicros.at(-1)!)}; ` +
          `producer: ${stats.queued} queued, ${stats.spooled} spooled, ${stats.lost} lost of ${handedOver}`,
      );

      // The same comparison with Redis unreachable (a port nothing listens on): the
      // call path must not wait on it; events stay in memory, then the spool.
      configure({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      const away = getDefaultProducer();
      const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
      const awayCalls = Math.ceil(calls / 4);
      await timeCalls(Math.ceil(awayCalls / 8), trackedCall, rawCall, tick);
      const d = await timeCalls(awayCalls, trackedCall, rawCall, tick);
      const awayTracked = sortedCopy(d.tracked);
      const awayRaw = sortedCopy([...d.rawA, ...d.rawB]);
      const awayAdded = p(awayTracked, 50) - p(awayRaw, 50);
      // The hand-off itself while Redis is away, past the buffer's size, so the spill to the spool is in it.
      const awayRecords = Math.min(records, 30_000);
      const awayMicros = new Float64Array(awayRecords);
      const awayInputs = Array.from({ length: RECORD_BURST }, (_, i) => benchRecord(i));
      for (let i = 0; i < awayRecords; i += 1) {
        const start = performance.now();
        LLMTracker.record(awayInputs[i % RECORD_BURST]!);
        awayMicros[i] = (performance.now() - start) * 1000;
        if (i % RECORD_BURST === RECORD_BURST - 1) await new Promise((resolve) => setImmediate(resolve));
      }
      const awayRecordMicros = sortedCopy(Array.from(awayMicros));
      await away.flush(); // Redis is away: spools what it holds
      const awayStats = away.stats();
      const awayHandedOver = Math.ceil(awayCalls / 8) + awayCalls + awayRecords;
      console.log(
        `Redis unreachable: ${awayCalls} calls each; raw p50 ${fmt.us(p(awayRaw, 50))}, tracked p50 ${fmt.us(p(awayTracked, 50))}; ` +
          `producer: ${awayStats.queued} queued, ${awayStats.spooled} spooled, ${awayStats.lost} lost of ${awayHandedOver}`,
      );

      return [
        {
          figure: "callAndTrack added latency p50 (median tracked − median raw)",
          value: fmt.us(addedP50),
          baseline: `raw SDK p50 ${fmt.us(p(rawAll, 50))}`,
          target: "≤ 20 µs",
          verdict: verdict(addedP50 <= 20),
        },
        {
          figure: "callAndTrack added latency, median of paired differences",
          value: fmt.us(p(paired, 50)),
          baseline: `raw SDK p50 ${fmt.us(p(rawAll, 50))}`,
          target: "≤ 20 µs",
          verdict: verdict(p(paired, 50) <= 20),
        },
        {
          figure: "spill-over onto the next call: p50 raw B (after tracked) − p50 raw A",
          value: fmt.us(p(rawB, 50) - p(rawA, 50)),
          baseline: `tracked − raw A p50 ${fmt.us(p(tracked, 50) - p(rawA, 50))}`,
          target: "info",
          verdict: "",
        },
        {
          figure: "callAndTrack p99 − raw p99 (vs raw A p99 − raw B p99)",
          value: fmt.us(addedP99),
          baseline: `control ${fmt.us(controlP99)}`,
          target: "info (GC noise)",
          verdict: "",
        },
        {
          figure: `LLMTracker.record() p99 (${records.toLocaleString("en-US")} calls)`,
          value: fmt.us(p(recordMicros, 99)),
          baseline: `p50 ${fmt.us(p(recordMicros, 50))}`,
          target: "≤ 50 µs",
          verdict: verdict(p(recordMicros, 99) <= 50),
        },
        {
          figure: "events queued while timing (none waited on / spooled)",
          value: `${stats.queued}/${handedOver}`,
          baseline: `${stats.spooled} spooled, ${stats.lost} lost`,
          target: "all queued",
          verdict: verdict(stats.queued === handedOver && stats.spooled === 0 && stats.lost === 0),
        },
        {
          figure: `callAndTrack added latency p50 with Redis unreachable (${awayCalls.toLocaleString("en-US")} calls each)`,
          value: fmt.us(awayAdded),
          baseline: `raw SDK p50 ${fmt.us(p(awayRaw, 50))}`,
          target: "info",
          verdict: "",
        },
        {
          figure: `LLMTracker.record() p99 with Redis unreachable (${awayRecords.toLocaleString("en-US")} calls, spills included)`,
          value: fmt.us(p(awayRecordMicros, 99)),
          baseline: `p50 ${fmt.us(p(awayRecordMicros, 50))}, max ${fmt.us(awayRecordMicros.at(-1)!)}`,
          target: "≤ 50 µs",
          verdict: verdict(p(awayRecordMicros, 99) <= 50),
        },
        {
          figure: "events kept while Redis was unreachable (spooled at flush)",
          value: `${awayStats.spooled}/${awayHandedOver}`,
          baseline: `${awayStats.queued} queued, ${awayStats.lost} lost`,
          target: "all spooled",
          verdict: verdict(awayStats.spooled === awayHandedOver && awayStats.lost === 0),
        },
      ];
    } finally {
      await shutdown();
      resetConfiguration();
      await fake.stop();
      await obliterateQueue(queueName);
      await rm(spoolDir, { recursive: true, force: true });
    }
  },
};

export default callPath;
