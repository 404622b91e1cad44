// Runs `llm-tracker worker` (the real CLI entry, through tsx) as a child process the test can signal.
import { fileURLToPath } from "node:url";
import { spawnScript, type ScriptProcess } from "../../support/script-process.js";

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));

export type WorkerProcess = ScriptProcess;

export function spawnWorker(env: Record<string, string>, args: string[] = []): WorkerProcess {
  return spawnScript(CLI, ["worker", ...args], { LLM_TRACKER_LOG_LEVEL: "info", LLM_TRACKER_HTTP_PORT: "0", ...env });
}
