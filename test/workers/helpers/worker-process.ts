// Runs `llm-tracker worker` (the real CLI entry, through tsx) as a child process the test can signal,
// with the heap flag it is deployed with (`npm start`, the Docker image), so the worker runs on the
// process's main thread; test/cli/commands/worker-heap.test.ts covers the capped thread used without it.
import { fileURLToPath } from "node:url";
import { spawnScript, type ScriptProcess } from "../../support/script-process.js";

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));

export type WorkerProcess = ScriptProcess;

export function spawnWorker(env: Record<string, string>, args: string[] = [], { heapFlag = true } = {}): WorkerProcess {
  return spawnScript(CLI, ["worker", ...args], { LLM_TRACKER_LOG_LEVEL: "info", LLM_TRACKER_HTTP_PORT: "0", ...env }, {
    nodeArgs: heapFlag ? ["--max-old-space-size=128"] : [],
  });
}
