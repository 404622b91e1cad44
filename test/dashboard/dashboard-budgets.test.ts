// The admin page's budgets: /api/budgets answers getBudgetStatus() (each budget's spend in
// its current period, from Redis), [] when no budget is configured; the page shows them.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeBudgetGuard } from "../../src/budgets/default-guard.js";
import { periodAt } from "../../src/budgets/budget-periods.js";
import { periodHashKey, spendKeyBase } from "../../src/budgets/spend-keys.js";
import { configure, resetConfiguration } from "../../src/config/settings.js";
import { startDashboardServer, type DashboardServer } from "../../src/dashboard/dashboard-server.js";
import { runMigrations } from "../../src/db/migrate.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { launchChromium } from "./support/chromium.js";
import { startDashboardProcess } from "./support/dashboard-process.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const queue = `test-${randomUUID()}`;
const hash = periodHashKey(spendKeyBase("bull", queue), "month", "UTC", periodAt("month", "UTC", Date.now()).label);
let database: TestDatabase;
let db: Sql;
let server: DashboardServer;
let redis: Redis;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {}, fetch_types: false });
  server = await startDashboardServer({ port: 0, db });
  redis = new Redis(TEST_REDIS_URL);
  await redis.hset(hash, { g: "42500000000" }); // 4.25 USD
});

afterAll(async () => {
  closeBudgetGuard();
  resetConfiguration();
  await server?.close();
  await db?.end();
  await database?.drop();
  await redis.del(hash);
  redis.disconnect();
});

describe("/api/budgets", () => {
  it("answers [] without budgets, and each budget's spend, limit and remainder with them", async () => {
    resetConfiguration();
    expect(await (await fetch(new URL("/api/budgets", server.url))).json()).toEqual([]);
    configure({ REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queue, LLM_TRACKER_BUDGETS: [{ scope: "global", period: "month", limit_usd: 10 }] });
    const response = await fetch(new URL("/api/budgets", server.url));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      expect.objectContaining({ scope: "global", key: null, period: "month", time_zone: "UTC", limit_usd: 10, spent_usd: 4.25, remaining_usd: 5.75 }),
    ]);
  });

  it("refuses parameters it does not take", async () => {
    const response = await fetch(new URL("/api/budgets?from=2026-01-01", server.url));
    expect(response.status).toBe(400);
  });
});

// Callbacks below run in the page (this file is compiled without the DOM library).
declare const document: { querySelector(selector: string): { hidden: boolean; textContent: string | null } | null };

describe("the page's budgets panel", () => {
  it("shows each budget's spend of its limit, as text", async () => {
    const dashboard = await startDashboardProcess(["--port", "0"], {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      LLM_TRACKER_QUEUE: queue,
      LLM_TRACKER_BUDGETS: JSON.stringify([{ scope: "global", period: "month", limit_usd: 5 }]),
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(dashboard.url);
      await page.waitForFunction(() => document.querySelector("#budgets")?.hidden === false);
      const text = await page.evaluate(() => document.querySelector("#budgets .budget-list")?.textContent ?? "");
      expect(text).toContain("Global");
      expect(text).toContain("monthly · UTC");
      expect(text).toMatch(/\$4\.25 of \$5\.00/);
    } finally {
      await browser.close();
      await dashboard.stop();
    }
  });
});
