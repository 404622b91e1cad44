// `llm-tracker dashboard`: the real command in a child process — loopback by
// default, refused on another address without LLM_TRACKER_DASHBOARD_TOKEN,
// guarded by the token with one, bad flags refused, SIGTERM a clean exit.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_POOL } from "../../../src/dashboard/dashboard-pool.js";
// @ts-expect-error: a plain ES module of the page, without type declarations.
import { REFRESH_MS } from "../../../src/dashboard/page/time-range.js";
import { runMigrations } from "../../../src/db/migrate.js";
import { startDashboardProcess } from "../../dashboard/support/dashboard-process.js";
import { freePort } from "../../support/free-port.js";
import { waitFor } from "../../support/wait-for.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const execFileAsync = promisify(execFile);
const TOKEN = "a-long-random-token-for-the-cli-test";
let database: TestDatabase;

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "dashboard", ...args], {
      env: { ...process.env, DATABASE_URL: database.url, LLM_TRACKER_DASHBOARD_TOKEN: undefined, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
});

afterAll(async () => {
  await database?.drop();
});

describe("llm-tracker dashboard", () => {
  it("refuses a non-loopback --host without LLM_TRACKER_DASHBOARD_TOKEN (exit 2, nothing listening)", async () => {
    const port = await freePort();
    const result = await cli(["--host", "0.0.0.0", "--port", String(port)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("refusing to listen on 0.0.0.0 without LLM_TRACKER_DASHBOARD_TOKEN");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it("listens on 127.0.0.1 by default and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const dashboard = await startDashboardProcess(["--port", String(port)], { DATABASE_URL: database.url });
    try {
      expect(dashboard.url).toBe(`http://127.0.0.1:${port}/`);
      const page = await fetch(dashboard.url);
      expect(page.status).toBe(200);
      expect(await (await fetch(`${dashboard.url}api/summary`)).json()).toMatchObject({ total_calls: 0 });
    } finally {
      expect(await dashboard.stop()).toBe(0);
    }
  });

  it("reads through a pool of its own whose idle connections outlive the page's auto-refresh", async () => {
    // Kept idle longer than an open page waits between refreshes, so a refresh finds its connections warm.
    expect(DASHBOARD_POOL.idleTimeoutSeconds! * 1000).toBeGreaterThan(2 * REFRESH_MS);
    const port = await freePort();
    const dashboard = await startDashboardProcess(["--port", String(port)], { DATABASE_URL: database.url });
    const admin = postgres(database.url, { max: 1, fetch_types: false, onnotice: () => {} });
    try {
      expect((await fetch(`${dashboard.url}api/summary`)).status).toBe(200);
      const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${database.name} AND application_name = ${DASHBOARD_POOL.applicationName!}`;
      expect(row!.n).toBeGreaterThan(0);
    } finally {
      await admin.end();
      expect(await dashboard.stop()).toBe(0);
    }
  });

  it("with a token on 0.0.0.0: 401 without it, 200 with the header, and never prints the token", async () => {
    const port = await freePort();
    const dashboard = await startDashboardProcess(["--host", "0.0.0.0", "--port", String(port)], {
      DATABASE_URL: database.url,
      LLM_TRACKER_DASHBOARD_TOKEN: TOKEN,
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/api/summary`)).status).toBe(401);
      expect((await fetch(`${base}/api/summary`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect(dashboard.output()).toContain("token required");
      expect(dashboard.output()).not.toContain(TOKEN);
    } finally {
      expect(await dashboard.stop()).toBe(0);
    }
  });

  it("warns about a short token", async () => {
    const dashboard = await startDashboardProcess(["--port", "0"], { DATABASE_URL: database.url, LLM_TRACKER_DASHBOARD_TOKEN: "short" });
    try {
      await waitFor(() => dashboard.output().includes("shorter than 16 characters"), 10_000, "the warning");
    } finally {
      await dashboard.stop();
    }
  });

  it("refuses a bad --port or an unknown flag (exit 2)", async () => {
    for (const args of [["--port", "http"], ["--port", "70000"], ["--colour", "blue"]]) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
    }
    expect((await cli(["--port", "http"])).stderr).toContain("--port");
  });

  it("prints its help with the flags and the token variable", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--host");
    expect(result.stdout).toContain("--port");
    expect(result.stdout).toContain("LLM_TRACKER_DASHBOARD_TOKEN");
  });
});
