// `llm-tracker worker`: runs the usage worker with settings from the environment
// until SIGTERM/SIGINT, then stops within a bounded time.
import { InvalidInputError } from "../../errors/invalid-input-error.js";
import { EXIT, type CliCommand } from "../cli-command.js";
import { needsHeapLimitedThread, onStopSignal, runInHeapLimitedThread, WORKER_HEAP_MB } from "../heap-limited-thread.js";

const FLAGS = {
  "--shutdown-timeout-ms": "shutdownTimeoutMs",
  "--lock-duration-ms": "lockDurationMs",
  "--concurrency": "concurrency",
} as const;

function parseFlags(args: string[]): Partial<Record<(typeof FLAGS)[keyof typeof FLAGS], number>> {
  const parsed: Partial<Record<(typeof FLAGS)[keyof typeof FLAGS], number>> = {};
  for (let i = 0; i < args.length; i += 1) {
    const flag = args[i]!;
    const [name, inline] = flag.includes("=") ? flag.split("=", 2) : [flag, undefined];
    const key = FLAGS[name as keyof typeof FLAGS];
    if (!key) throw new InvalidInputError(name!, "is not an option of llm-tracker worker (see --help)");
    const text = inline ?? args[++i];
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(name!, "needs a positive integer");
    parsed[key] = value;
  }
  return parsed;
}

const workerCommand: CliCommand = {
  summary: "consume the usage queue and write events to Postgres in batches",
  help: [
    "Usage: llm-tracker worker [options]",
    "",
    "Applies the migrations, then consumes LLM_TRACKER_QUEUE on REDIS_URL and writes",
    "the usage events into DATABASE_URL in batches of up to LLM_TRACKER_BATCH_SIZE",
    "events or every LLM_TRACKER_FLUSH_MS ms. A job is acknowledged only after its",
    "rows are committed. SIGTERM/SIGINT: stops taking jobs, writes what it holds, exits.",
    "",
    "Options:",
    "  --shutdown-timeout-ms <n>  longest wait for in-flight batches at shutdown (default 10000);",
    "                             jobs not acknowledged by then are redelivered later",
    "  --lock-duration-ms <n>     job lock lifetime; a crashed worker's jobs return after about",
    "                             this long (default 30000)",
    "  --concurrency <n>          jobs processed at once (default max(100, 2 × batch size / job size), at most 1000)",
    "",
    "Settings come from the environment: REDIS_URL, LLM_TRACKER_REDIS_CLUSTER, DATABASE_URL,",
    "LLM_TRACKER_QUEUE, LLM_TRACKER_QUEUE_PREFIX (a hash tag such as {llm-tracker} on a cluster),",
    "LLM_TRACKER_BATCH_SIZE, LLM_TRACKER_FLUSH_MS, LLM_TRACKER_JOB_SIZE, LLM_TRACKER_LOG_LEVEL,",
    "LLM_TRACKER_HTTP_PORT (/healthz and /metrics; default 9464, 0 turns it off), LLM_TRACKER_BUDGETS",
    "(the worker keeps the budgets' spend in Redis: give it the app's list).",
    "",
    `Memory: the worker runs with its V8 heap capped at ${WORKER_HEAP_MB} MB (in a worker thread when node`,
    "was started without --max-old-space-size); a --max-old-space-size flag or NODE_OPTIONS setting wins.",
  ].join("\n"),
  async run(args) {
    const flags = parseFlags(args);
    // Bad flags fail above, on the main thread, before a thread is started.
    if (needsHeapLimitedThread()) return runInHeapLimitedThread("worker", args);
    // Loaded here so `llm-tracker --help` does not load BullMQ.
    const { startUsageWorker, WorkerStartAborted } = await import("../../../workers/usage-worker.js");
    const { startWorkerOps } = await import("../../ops/worker-ops.js");
    const { getTrackerSettings } = await import("../../config/settings.js");
    // /healthz answers 503 ("worker not running") while migrations run, so an
    // orchestrator does not route to or count a worker that is still starting.
    const ops = await startWorkerOps(getTrackerSettings());
    // A first signal stops the worker (or its start); a second one while stopping means "now".
    let signals = 0;
    const starting = new AbortController();
    let stopRequested: (signal: NodeJS.Signals) => void = () => {};
    const stop = new Promise<NodeJS.Signals>((resolve) => (stopRequested = resolve));
    const stopListening = onStopSignal((signal) => {
      signals += 1;
      if (signals > 1) process.exit(EXIT.failure);
      starting.abort();
      stopRequested(signal);
    });

    let handle;
    try {
      handle = await startUsageWorker({ ...flags, observer: ops.observer, signal: starting.signal });
    } catch (error) {
      await ops.close();
      stopListening();
      if (error instanceof WorkerStartAborted) return EXIT.ok; // stopped while starting: nothing was taken from the queue
      throw error;
    }
    ops.watch(handle);
    await stop;
    await handle.close();
    await ops.close();
    stopListening();
    // Lingering sockets or timers of a forced close must not keep the process alive.
    setTimeout(() => process.exit(process.exitCode ?? EXIT.ok), 100).unref();
    return EXIT.ok;
  },
};

export default workerCommand;
