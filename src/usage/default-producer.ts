// The process-wide producer LLMTracker uses, built from getTrackerSettings() on
// first use and rebuilt after configure() changes its settings, plus the
// process hooks that flush it on SIGTERM, SIGINT, beforeExit and exit.
import { closeBudgetGuard } from "../budgets/default-guard.js";
import { getTrackerSettings, onConfigurationChange, type TrackerSettings } from "../config/settings.js";
import { createLogger } from "../logger.js";
import { interruptOpenStreams, openStreamCount } from "./open-streams.js";
import { UsageProducer } from "./producer.js";

let current: { producer: UsageProducer; key: string } | undefined;
let hooksInstalled = false;

function producerKey(settings: TrackerSettings): string {
  const { redisUrl, redisCluster, queueName, queuePrefix, spoolDir, bufferSize, jobSize, logLevel } = settings;
  return JSON.stringify([redisUrl, redisCluster, queueName, queuePrefix, spoolDir, bufferSize, jobSize, logLevel]);
}

// A reconfiguration that changes the producer's settings retires the old producer (flushed, closed).
onConfigurationChange(() => {
  if (!current) return;
  let key: string | undefined;
  try {
    key = producerKey(getTrackerSettings());
  } catch {
    key = undefined; // invalid settings: the next use reports the ConfigError
  }
  if (key === current.key) return;
  const retired = current.producer;
  current = undefined;
  // shutdown() is not expected to reject; if it ever does, the application must not pay with its process.
  retired.shutdown().catch(() => {});
});

/** The producer for the current settings, created on first use. */
export function getDefaultProducer(): UsageProducer {
  if (current) return current.producer;
  const settings = getTrackerSettings();
  const producer = new UsageProducer({
    redisUrl: settings.redisUrl,
    redisCluster: settings.redisCluster,
    queueName: settings.queueName,
    queuePrefix: settings.queuePrefix,
    spoolDir: settings.spoolDir,
    bufferSize: settings.bufferSize,
    jobSize: settings.jobSize,
    logger: createLogger(settings.logLevel),
  });
  current = { producer, key: producerKey(settings) };
  if (settings.handleSignals) installProcessHooks();
  return producer;
}

/**
 * Resolves once every event handed over so far is queued or spooled. A tracked stream still
 * open has not handed its event over yet (it may still finish); shutdown() and the process
 * hooks end such streams.
 */
export async function flush(): Promise<void> {
  await current?.producer.flush();
}

/**
 * Ends the tracked streams still open (each records its event as ended early by shutdown()),
 * then flushes and closes the producer's connections; a later call builds a new producer.
 */
export async function shutdown(): Promise<void> {
  interruptOpenStreams("shutdown");
  closeBudgetGuard();
  const retiring = current;
  current = undefined;
  await retiring?.producer.shutdown();
}

/**
 * What we chose:
 * - SIGTERM/SIGINT: flush (bounded by the flush timeout). If the application has
 *   its own listener for that signal, it decides what happens next and we do
 *   nothing more; otherwise we remove ours and re-raise the signal, so the
 *   process ends exactly as it would have without us (killed by that signal).
 * - beforeExit (the event loop ran dry): flush while events are still held; the
 *   flush's work keeps the loop alive, and the next beforeExit finds nothing left.
 * - exit (including process.exit()): whatever is still held is written to the
 *   spool synchronously, so an exiting process loses nothing it handed over.
 * - Tracked streams still open when the process is going down (a signal we re-raise,
 *   beforeExit, exit) are ended first, so their events are handed over with the rest;
 *   when the application handles the signal itself, its streams may still finish.
 */
function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;

  const onSignal = (signal: NodeJS.Signals) => {
    const producer = current?.producer;
    const othersListen = process.listenerCount(signal) > 1;
    const reRaise = () => {
      if (othersListen) return;
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    if (!othersListen) interruptOpenStreams("process_exit");
    if (!producer) return reRaise();
    void producer.flush().then(reRaise, reRaise);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  process.on("beforeExit", () => {
    // Nothing is left to run: an open stream can not receive another chunk.
    if (openStreamCount() > 0) interruptOpenStreams("process_exit");
    const producer = current?.producer;
    if (producer && producer.stats().buffered > 0) void producer.flush();
  });

  process.on("exit", () => {
    interruptOpenStreams("process_exit");
    current?.producer.spillSync("process exiting");
  });
}
