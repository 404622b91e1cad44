// Importing llm-tracker/stats must not load a provider SDK or BullMQ: reporting
// jobs only need Postgres. A child process records every module the loader
// resolves while importing the entry point.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const FORBIDDEN = ["openai", "@google/genai", "bullmq", "ioredis"];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llmt-imports-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The node_modules packages resolved while importing `modulePath` in a fresh Node process. */
async function packagesLoadedBy(modulePath: string): Promise<Set<string>> {
  const logFile = join(dir, `${Math.random().toString(36).slice(2)}.log`);
  await run(
    process.execPath,
    ["--import", "tsx", "--import", "./test/stats/fixtures/record-resolved-modules.mjs", "--input-type=module", "-e", `await import(${JSON.stringify(modulePath)});`],
    { cwd: process.cwd(), env: { ...process.env, RESOLVED_MODULES_LOG: logFile } },
  );
  const packages = new Set<string>();
  for (const url of (await readFile(logFile, "utf8")).split("\n")) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match?.[1]) packages.add(match[1]);
  }
  return packages;
}

describe("importing llm-tracker/stats", () => {
  it("loads postgres but none of openai, @google/genai, bullmq, ioredis", async () => {
    const packages = await packagesLoadedBy("./src/stats/index.ts");
    expect(packages.has("postgres")).toBe(true); // the recorder sees packages at all
    for (const name of FORBIDDEN) expect(packages, name).not.toContain(name);
  });

  it("would notice bullmq if something loaded it (the check can fail)", async () => {
    const packages = await packagesLoadedBy("./test/support/test-queue.ts");
    expect(packages).toContain("bullmq");
  });
});
