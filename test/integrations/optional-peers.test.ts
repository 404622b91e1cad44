// `ai`, `@ai-sdk/*` and `@opentelemetry/*` are optional peer dependencies: importing llm-tracker
// and making tracked calls must work without them. A child process refuses to resolve them
// (import and require alike), imports the package entry, and makes a wrapped call whose row
// the real worker writes.
import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support/usage-rows-harness.js";

const run = promisify(execFile);
let h: Harness;
const logFile = join(tmpdir(), `llmt-refused-${process.pid}-${Date.now()}.log`);

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
  await rm(logFile, { force: true });
});

describe("without the optional peers installed", () => {
  it("the package entry imports, a wrapped call is made and recorded, and nothing but the refused peers was missing", async () => {
    const settings = h.settings();
    const { stdout } = await run(
      process.execPath,
      ["--import", "./test/integrations/fixtures/refuse-optional-peers.mjs", "--import", "tsx", "./test/integrations/fixtures/wrapped-call-child.ts"],
      { cwd: process.cwd(), env: { ...process.env, REFUSED_MODULES_LOG: logFile, FAKE_URL: `${h.fake.url}/v1`, CHILD_SETTINGS: JSON.stringify(settings) } },
    );
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ model: "gpt-4.1-mini-2025-04-14", specificationVersion: "v3" });
    // The tracked call looked for @opentelemetry/api (and was refused): the check can fail.
    const refused = await readFile(logFile, "utf8");
    expect(refused).toContain("require @opentelemetry/api");
    expect(refused).not.toMatch(/^(import|require) (ai|@ai-sdk\/.+)$/m); // the middleware needs nothing from `ai`
    const row = await h.rowOf("isolation");
    expect(row).toMatchObject({ user_id: "iso-user", prompt_tokens: 19, completion_tokens: 9, success: true });
  });
});
