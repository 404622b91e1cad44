// Starts a TypeScript entry (through tsx) as a child process and waits for the
// line that says it is ready, so a benchmark's helpers never share its CPU.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface BenchChild {
  child: ChildProcess;
  /** Every stdout/stderr line so far (for error reports). */
  lines: string[];
  /** Resolves with the first line matching `pattern` (or rejects when the child exits first). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** `nodeArgs` go before the entry (e.g. `--cpu-prof`); a `.ts` entry runs through tsx, a `.js` one as is. */
export function spawnTs(entry: string, args: string[] = [], env: Record<string, string> = {}, nodeArgs: string[] = []): BenchChild {
  const loader = entry.endsWith(".ts") ? ["--import", "tsx"] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const watch of watchers) watch(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  return {
    child,
    lines,
    waitForLine(pattern, timeoutMs = 60_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (error?: Error, line?: string) => {
          watchers.delete(watch);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(line!);
        };
        const watch = (line: string) => {
          if (pattern.test(line)) done(undefined, line);
        };
        const timer = setTimeout(() => done(new Error(`${entry}: no line matching ${pattern} within ${timeoutMs} ms\n${lines.slice(-20).join("\n")}`)), timeoutMs);
        watchers.add(watch);
        void exited.then(() => done(new Error(`${entry} exited before printing ${pattern}\n${lines.slice(-20).join("\n")}`)));
      });
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
