// LLM_TRACKER_STATS_DATABASE_URL on a real streaming replica (a primary and a
// replica started by this file): the stats and `llm-tracker stats` read the
// replica, re-pricing writes on the primary, and a lagging replica answers
// with the totals of the last transaction it replayed, never part of one.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../src/config/settings.js";
import { createPriceBook } from "../../src/cost/price-book.js";
import { runMigrations } from "../../src/db/migrate.js";
import { close, getStatsByModel, getSummaryStats, recomputeCosts } from "../../src/stats/index.js";
import { insertUsageRows } from "../../workers/insert-usage-rows.js";
import { startPostgres, type PostgresServers } from "../support/postgres-servers.js";
import { makeEvent } from "../support/usage-events.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const DATABASE = "llm_tracker";
let pair: PostgresServers;
let primary: postgres.Sql;
const first = events(300, "gpt-4o-mini", 10);

/** `count` events in the hours of 2025-03-04, some of them at minutes the stats read from raw rows. */
function events(count: number, model: string, tokens: number) {
  return Array.from({ length: count }, (_, i) =>
    makeEvent({ model, prompt_tokens: tokens, completion_tokens: 1, total_tokens: tokens + 1, created_at: `2025-03-04T${String(i % 24).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}:00Z` }),
  );
}

async function connectionsNamed(url: string, applicationName: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${DATABASE} AND application_name = ${applicationName}`;
    return row!.n as number;
  } finally {
    await sql.end();
  }
}

function cliSummary(): { total_calls: number; total_tokens: number } {
  const result = spawnSync(process.execPath, ["--import", "tsx", CLI, "stats", "summary", "--json"], {
    env: { ...process.env, DATABASE_URL: pair.primaryUrl(DATABASE), LLM_TRACKER_STATS_DATABASE_URL: pair.replicaUrl(DATABASE), LLM_TRACKER_LOG_LEVEL: "silent" },
    encoding: "utf8",
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`llm-tracker stats failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { total_calls: number; total_tokens: number };
}

beforeAll(async () => {
  pair = await startPostgres({ replica: true });
  await runMigrations(pair.primaryUrl(DATABASE));
  primary = postgres(pair.primaryUrl(DATABASE), { max: 1, onnotice: () => {} });
  await insertUsageRows(primary, first);
  await pair.caughtUp();
  configure({ DATABASE_URL: pair.primaryUrl(DATABASE), LLM_TRACKER_STATS_DATABASE_URL: pair.replicaUrl(DATABASE) });
});

afterAll(async () => {
  await close();
  resetConfiguration();
  await primary?.end();
  await pair?.stop();
});

describe("stats on a read replica", () => {
  it("read the replica, not the primary", async () => {
    expect(await getSummaryStats("2025-03-04", "2025-03-04")).toMatchObject({ total_calls: 300, total_tokens: 300 * 11 });
    expect(await connectionsNamed(pair.replicaUrl("postgres"), "llm-tracker-stats")).toBeGreaterThan(0);
    expect(await connectionsNamed(pair.primaryUrl("postgres"), "llm-tracker-stats")).toBe(0);
  });

  it("while the replica lags, answer with what it has replayed — whole transactions, rollup and edges alike — and catch up", async () => {
    await pair.pauseReplay();
    try {
      // Two batches the replica has not seen: one INSERT (one transaction) each, rollup included.
      await insertUsageRows(primary, events(200, "gpt-4o-mini", 10));
      await insertUsageRows(primary, events(50, "o4-mini", 100));
      // Whole buckets (rollup) and minute edges (raw rows) both stop at the last replayed transaction.
      expect(await getSummaryStats("2025-03-04", "2025-03-04")).toMatchObject({ total_calls: 300, total_tokens: 3_300 });
      const inEdgeRange = first.filter((event) => event.created_at >= "2025-03-04T00:30:00Z" && event.created_at < "2025-03-04T23:45:00Z");
      expect(inEdgeRange.length).toBeLessThan(300);
      expect(await getSummaryStats("2025-03-04T00:30:00Z", "2025-03-04T23:45:00Z")).toMatchObject({ total_calls: inEdgeRange.length, total_tokens: inEdgeRange.length * 11 });
      expect(await getStatsByModel("2025-03-04", "2025-03-04")).toEqual([expect.objectContaining({ model: "gpt-4o-mini", total_calls: 300 })]);
      expect(cliSummary()).toMatchObject({ total_calls: 300, total_tokens: 3_300 });
      // The primary has them all.
      expect(await getSummaryStats("2025-03-04", "2025-03-04", { db: primary })).toMatchObject({ total_calls: 550, total_tokens: 550 * 11 + 50 * 90 });
    } finally {
      await pair.resumeReplay();
    }
    await pair.caughtUp();
    expect(await getSummaryStats("2025-03-04", "2025-03-04")).toMatchObject({ total_calls: 550, total_tokens: 550 * 11 + 50 * 90 });
    expect(cliSummary()).toMatchObject({ total_calls: 550 });
  });

  it("recomputeCosts writes on the primary (DATABASE_URL) even with the stats on the replica", async () => {
    const costOf = async (options = {}) => (await getSummaryStats("2025-03-04", "2025-03-04", options)).total_cost_usd;
    const before = await costOf();
    const book = createPriceBook({ overrides: { "gpt-4o-mini": { input_cost_per_token: "0.00001", output_cost_per_token: "0.00002" } } });
    // On the replica this would fail: "cannot execute UPDATE in a read-only transaction".
    const result = await recomputeCosts("2025-03-04", "2025-03-04", { priceBook: book });
    expect(result).toMatchObject({ rows_repriced: 550, rows_changed: 550, price_version: book.version });
    const [row] = await primary`SELECT count(*)::int AS n FROM llm_tracker_usage WHERE price_version = ${book.version}`;
    expect(row!.n).toBe(550);
    await pair.caughtUp();
    expect(await costOf()).not.toBe(before);
    expect(await costOf()).toBe(await costOf({ db: primary }));
  });
});

