// Runs a command in a worker thread whose V8 heap is capped, for the commands
// that must hold a memory bound however they are started (`npx llm-tracker
// worker` passes no node flags). Capping the heap makes V8 collect before it
// grows: without it the worker draining a backlog peaked at ~205 MB RSS, with
// it ~140 MB (bench/worker-backlog-memory.ts). A thread, not a child process:
// one PID, so a SIGKILL or an orchestrator's stop reaches everything, and a
// terminal's Ctrl-C is one signal, not two.
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { EXIT } from "./cli-command.js";

/** The old-generation cap of the thread, as `npm start` and the Docker image pass it (--max-old-space-size). */
export const WORKER_HEAP_MB = 128;

const HEAP_FLAG = /--max[-_]old[-_]space[-_]size/;

/**
 * True when the command should move into a capped thread: we are on the main
 * thread and nobody chose a heap size (a flag or NODE_OPTIONS wins: a
 * deployment that raised it meant it).
 */
export function needsHeapLimitedThread(): boolean {
  return isMainThread && !process.execArgv.some((arg) => HEAP_FLAG.test(arg)) && !HEAP_FLAG.test(process.env.NODE_OPTIONS ?? "");
}

/** Signals the main thread relays to the command's thread. */
const RELAYED: NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

/**
 * Runs `llm-tracker <command> <args>` in a thread capped at WORKER_HEAP_MB and
 * resolves to its exit code. SIGTERM/SIGINT are relayed (signals reach only
 * the main thread); see onStopSignal for the thread's side.
 */
export function runInHeapLimitedThread(command: string, args: string[]): Promise<number> {
  const thread = new Worker(threadEntry(), {
    argv: [command, ...args],
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    ...(import.meta.url.endsWith(".ts") ? { eval: true } : {}),
  });
  const relay = (signal: NodeJS.Signals) => thread.postMessage({ signal });
  for (const signal of RELAYED) process.on(signal, relay);
  return new Promise((resolve) => {
    let failure: Error | undefined;
    thread.on("error", (error) => {
      failure = error;
    });
    thread.on("exit", (code) => {
      for (const signal of RELAYED) process.off(signal, relay);
      if (failure) {
        const reason = (failure as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY" ? `ran out of its ${WORKER_HEAP_MB} MB heap` : failure.message;
        console.error(`llm-tracker ${command}: ${reason}`);
        resolve(code === 0 ? EXIT.failure : code);
        return;
      }
      resolve(code);
    });
  });
}

/**
 * The thread's entry: the built module beside this one; when run from source
 * (tests, `npm run worker`), code that loads tsx in the thread first — tsx's
 * `--import` hooks do not reach worker threads.
 */
function threadEntry(): URL | string {
  if (!import.meta.url.endsWith(".ts")) return new URL("./heap-limited-thread-main.js", import.meta.url);
  const entry = new URL("./heap-limited-thread-main.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
}

/**
 * Calls `listener` for each SIGTERM/SIGINT meant for this command: the process
 * signal on the main thread, the relayed one in a heap-limited thread.
 * Returns a function that stops listening.
 */
export function onStopSignal(listener: (signal: NodeJS.Signals) => void): () => void {
  if (isMainThread) {
    for (const signal of RELAYED) process.on(signal, listener);
    return () => {
      for (const signal of RELAYED) process.off(signal, listener);
    };
  }
  const port = parentPort!;
  const onMessage = (message: { signal?: NodeJS.Signals }) => {
    if (message.signal) listener(message.signal);
  };
  port.on("message", onMessage);
  return () => port.off("message", onMessage);
}
