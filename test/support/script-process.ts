// Runs a TypeScript script (through tsx) as a child process with Node's
// default settings — in particular the default unhandled-rejection mode, in
// which an unhandled rejection ends the process — and collects what it printed.
import { spawn, type ChildProcess } from "node:child_process";

export interface ScriptProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  readonly gone: boolean;
}

export interface ScriptOptions {
  /** Give the child a pipe to read from (`child.stdin`); otherwise it reads nothing. */
  stdin?: boolean;
  /** Node flags before the script, e.g. `--max-old-space-size=128`. */
  nodeArgs?: string[];
}

export function spawnScript(script: string, args: string[], env: Record<string, string>, options: ScriptOptions = {}): ScriptProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  // The parent's NODE_OPTIONS could carry --unhandled-rejections=warn or similar: the child runs with
  // Node's defaults, or with the NODE_OPTIONS the caller passes in `env`.
  delete childEnv.NODE_OPTIONS;
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", script, ...args], { env: childEnv, stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
  let text = "";
  let gone = false;
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      gone = true;
      resolve({ code, signal });
    }),
  );
  return {
    child,
    output: () => text,
    exited,
    get gone() {
      return gone;
    },
  };
}

/**
 * The lines where Node reports a fatal unhandled rejection or exception (it
 * ends that report with its version line), or none when the process did not die of one.
 */
export function fatalErrorReport(output: string): string | undefined {
  const lines = output.split("\n");
  const last = lines.findIndex((line) => /^Node\.js v\d+/.test(line));
  if (last === -1 && !/triggerUncaughtException|Unhandled promise rejection|UnhandledPromiseRejection/.test(output)) return undefined;
  return lines.slice(Math.max(0, (last === -1 ? lines.length : last) - 15), last === -1 ? undefined : last + 1).join("\n");
}

/** The JSON lines a script printed (other lines — logs, warnings — skipped). */
export function jsonLines<T = Record<string, unknown>>(output: string): T[] {
  const parsed: T[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      parsed.push(JSON.parse(line) as T);
    } catch {
      // a log line that only looks like JSON
    }
  }
  return parsed;
}
