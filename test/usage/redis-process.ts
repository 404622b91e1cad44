// Starts and stops a real extra redis-server on a given port, so tests can make
// Redis unreachable for the producer and bring it back later.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export { freePort } from "../support/free-port.js";

async function answers(port: number): Promise<boolean> {
  try {
    const { stdout } = await run("redis-cli", ["-p", String(port), "ping"]);
    return stdout.trim() === "PONG";
  } catch {
    return false;
  }
}

/** Starts `redis-server --port <port>` without persistence and waits until it answers PING. */
export async function startRedis(port: number): Promise<void> {
  const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"], { stdio: "ignore", detached: false });
  child.unref();
  for (let i = 0; i < 200; i++) {
    if (await answers(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on port ${port} did not start`);
}

/** Stops the server started on `port` (no save). */
export async function stopRedis(port: number): Promise<void> {
  await run("redis-cli", ["-p", String(port), "shutdown", "nosave"]).catch(() => {});
}

export { waitFor } from "../support/wait-for.js";
