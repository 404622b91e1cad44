// The `llm-tracker` command as scripts see it: help on every command, exit
// codes they can rely on, and one clear line (no stack trace) on failure.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], {
    env: { ...process.env, LLM_TRACKER_LOG_LEVEL: "silent", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("llm-tracker", () => {
  it.each(["worker", "migrate", "replay", "stats"])("%s --help prints its usage and exits 0", (command) => {
    const { code, stdout } = run([command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: llm-tracker ${command}`);
  });

  it("lists the commands with --help, and exits 2 without a command", () => {
    const help = run(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["worker", "migrate", "replay", "stats"]) expect(help.stdout).toContain(command);
    expect(run([]).code).toBe(2);
  });

  it("exits 2 for an unknown command", () => {
    const { code, stderr } = run(["frobnicate"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
  });

  it("reports an unreachable database in one line without the password, exit 1", async () => {
    const port = await freePort();
    const { code, stderr } = run(["migrate"], { DATABASE_URL: `postgres://tracker:hunter2@127.0.0.1:${port}/llm_tracker` });
    expect(code).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^llm-tracker migrate: migrating postgres:\/\/127\.0\.0\.1:\d+\/llm_tracker failed: connect ECONNREFUSED/);
    expect(stderr).not.toContain("hunter2");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ["stats", ["stats", "summary"], "DATABASE_URL", (port: number) => `postgres://tracker:hunter2@127.0.0.1:${port}/llm_tracker`],
    ["replay", ["replay"], "REDIS_URL", (port: number) => `redis://:hunter2@127.0.0.1:${port}`],
  ] as const)("%s reports an unreachable service in one line without the password, exit 1", async (command, args, setting, url) => {
    const port = await freePort();
    const { code, stderr } = run([...args], { [setting]: url(port) });
    expect(code).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^llm-tracker ${command}: `));
    expect(stderr).not.toContain("hunter2");
  });

  it("names the setting when the configuration is invalid, exit 1", () => {
    const { code, stderr } = run(["migrate"], { DATABASE_URL: "not a url" });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe("llm-tracker migrate: DATABASE_URL: is invalid (must be a URL)");
  });
});
