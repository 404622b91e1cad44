// The real `llm-tracker dashboard` command in a child process, resolved once it
// prints the line with its URL.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

export interface DashboardProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the command with `args` and `env` (over this process's), waiting up to 30 s for its URL. */
export async function startDashboardProcess(args: string[], env: Record<string, string | undefined>): Promise<DashboardProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "dashboard", ...args], {
    env: { ...process.env, LLM_TRACKER_DASHBOARD_TOKEN: undefined, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from the dashboard within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /llm-tracker dashboard: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited (${code}) before printing its URL:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
