// Runs `llm-tracker worker` (the real CLI entry, through tsx) as a child process the test can signal,
// with the heap flag it is deployed with (`npm start`, the Docker image), so the worker runs on the
// process's main thread; test/cli/commands/worker-heap.test.ts covers the capped thread used without it.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the process wrote so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnWorker(env: Record<string, string>, args: string[] = [], { heapFlag = true } = {}): WorkerProcess {
  const nodeArgs = heapFlag ? ["--max-old-space-size=128"] : [];
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", CLI, "worker", ...args], {
    env: { ...process.env, LLM_TRACKER_LOG_LEVEL: "info", LLM_TRACKER_HTTP_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}
