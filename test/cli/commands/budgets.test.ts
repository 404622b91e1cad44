// `llm-tracker budgets`: what getBudgetStatus() returns, as a table or JSON, from the spend in Redis.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodAt } from "../../../src/budgets/budget-periods.js";
import { periodHashKey, spendKeyBase } from "../../../src/budgets/spend-keys.js";
import { TEST_REDIS_URL } from "../../support/services.js";

const execFileAsync = promisify(execFile);
const queue = `test-${randomUUID()}`;
const base = spendKeyBase("bull", queue);
const hash = periodHashKey(base, "day", "UTC", periodAt("day", "UTC", Date.now()).label);
let redis: Redis;

async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "budgets", ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

const env = {
  REDIS_URL: TEST_REDIS_URL,
  LLM_TRACKER_QUEUE: queue,
  LLM_TRACKER_BUDGETS: JSON.stringify([
    { scope: "user", period: "day", limit_usd: 2 },
    { scope: "global", period: "day", limit_usd: 10 },
  ]),
};

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  // 1.5 USD for u1, 0.25 for u2, 1.75 in all (units of 1e-10 USD).
  await redis.hset(hash, { g: "17500000000", "u:u1": "15000000000", "u:u2": "2500000000", __snapshot: "1:1:" });
});

afterAll(async () => {
  await redis.del(hash);
  redis.disconnect();
});

describe("llm-tracker budgets", () => {
  it("prints each budget's spend, limit and remainder as JSON, a user budget per user, most spent first", async () => {
    const { code, stdout } = await cli("--json");
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows.map((r) => [r.scope, r.key, r.spent_usd, r.limit_usd, r.remaining_usd])).toEqual([
      ["user", "u1", 1.5, 2, 0.5],
      ["user", "u2", 0.25, 2, 1.75],
      ["global", null, 1.75, 10, 8.25],
    ]);
  });

  it("narrows the user budgets to one user and prints a table", async () => {
    const { code, stdout } = await cli("--user", "u3");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^scope\s+key\s+period\s+time_zone\s+limit_usd\s+spent_usd\s+remaining_usd\s+period_start\s+period_end$/);
    expect(lines.slice(2).map((line) => line.split(/\s+/).slice(0, 2))).toEqual([
      ["user", "u3"],
      ["global", "-"],
    ]);
  });
});
