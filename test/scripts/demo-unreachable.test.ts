// `npm run demo` without Postgres or Redis: one line saying which is missing and
// what to start, exit 1 — no stack trace, no password, no hang.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { TEST_REDIS_URL, databaseUrl } from "../support/services.js";

const DEMO = fileURLToPath(new URL("../../scripts/demo.ts", import.meta.url));

function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", DEMO], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

it("without Postgres: one line naming Postgres and what to start, exit 1", async () => {
  const port = await freePort();
  const { code, stdout, stderr } = await runDemo({ DATABASE_URL: `postgres://tracker:hunter2@127.0.0.1:${port}/llm_tracker_demo`, REDIS_URL: TEST_REDIS_URL });
  expect(code).toBe(1);
  expect(stderr).toBe(`llm-tracker demo: cannot reach Postgres at 127.0.0.1:${port} (connection refused) — start it (e.g. docker compose up -d postgres)\n`);
  expect(stdout).toBe(""); // nothing started, nothing half-printed
});

it("without Redis: one line naming Redis and what to start, exit 1, the password nowhere", async () => {
  const port = await freePort();
  // A database that does not exist counts as reachable (the demo would create it); this run stops before that.
  const { code, stdout, stderr } = await runDemo({ DATABASE_URL: databaseUrl("llm_tracker_demo_unused"), REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` });
  expect(code).toBe(1);
  expect(stderr).toBe(`llm-tracker demo: cannot reach Redis at 127.0.0.1:${port} (connection refused) — start it (e.g. docker compose up -d redis)\n`);
  expect(stdout + stderr).not.toContain("hunter2");
});
