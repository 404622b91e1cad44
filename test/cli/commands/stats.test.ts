// `llm-tracker stats`: the real command in a child process against a test database.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const execFileAsync = promisify(execFile);
let database: TestDatabase;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "stats", ...args], {
      env: { ...process.env, DATABASE_URL: database.url },
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
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    // New York: 04:59Z is March 7 (EST), 05:00Z is March 8.
    await sql`INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, success, metadata, created_at) VALUES
      (${crypto.randomUUID()}, 'u1', 'gpt-4o', 10, 5, 15, true, ${sql.json({ node_name: "interpret" })}, '2026-03-08T04:59:00Z'),
      (${crypto.randomUUID()}, NULL, 'gpt-4o', 20, 10, 30, false, '{}', '2026-03-08T05:00:00Z')`;
  } finally {
    await sql.end();
  }
});

afterAll(async () => {
  await database?.drop();
});

describe("llm-tracker stats", () => {
  it("prints a report as JSON with --json, days in --tz", async () => {
    const result = await cli("by-day", "--tz", "America/New_York", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { date: "2026-03-07", total_calls: 1, total_tokens: 15, total_cost_usd: 0 },
      { date: "2026-03-08", total_calls: 1, total_tokens: 30, total_cost_usd: 0 },
    ]);
  });

  it("honours --from and --to (a date-only --to includes the day)", async () => {
    const result = await cli("summary", "--from", "2026-03-08", "--to", "2026-03-08", "--tz", "America/New_York", "--json");
    expect(JSON.parse(result.stdout)).toMatchObject({ total_calls: 1, total_tokens: 30, failed_calls: 1 });
  });

  it("prints a table by default, null user as -", async () => {
    const result = await cli("by-user");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^user_id\s+total_calls\s+total_prompt_tokens\s+total_completion_tokens\s+total_tokens\s+total_cost_usd\s+avg_latency_ms\s+avg_time_to_first_token_ms$/);
    expect(lines.slice(2).map((line) => line.split(/\s+/))).toEqual([
      // Rows without a latency or a stream: both averages 0.
      ["-", "1", "20", "10", "30", "0", "0", "0"],
      ["u1", "1", "10", "5", "15", "0", "0", "0"],
    ]);
  });

  it("exits 2 naming the flag for a bad date or zone", async () => {
    const badDate = await cli("summary", "--from", "yesterday");
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain("--from: expected a Date or an ISO 8601 string");
    const badZone = await cli("by-day", "--tz", "Mars/Base");
    expect(badZone.code).toBe(2);
    expect(badZone.stderr).toContain("--tz:");
  });

  it("exits 2 for a missing or unknown report", async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli("by-planet")).stderr).toContain('unknown report "by-planet"');
  });

  it("prints buckets over time, zero-filled, with over-time --bucket --group-by --limit", async () => {
    const result = await cli("over-time", "--bucket", "day", "--from", "2026-03-07", "--to", "2026-03-09", "--tz", "America/New_York", "--group-by", "user", "--limit", "1", "--json");
    expect(result.code).toBe(0);
    const entries = JSON.parse(result.stdout) as { bucket_start: string; user_id: string | null; total_tokens: number }[];
    expect(entries.map((e) => [e.bucket_start, e.user_id, e.total_tokens])).toEqual([
      ["2026-03-07T00:00:00-05:00", null, 0],
      ["2026-03-08T00:00:00-05:00", null, 30],
      ["2026-03-09T00:00:00-04:00", null, 0],
    ]);
  });

  it("lists failed calls with failures, newest first", async () => {
    const result = await cli("failures", "--limit", "5", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([expect.objectContaining({ created_at: "2026-03-08T05:00:00.000000+00:00", model: "gpt-4o", user_id: null })]);
  });

  it("keeps the top N users with --limit", async () => {
    const result = await cli("by-user", "--limit", "1", "--json");
    expect(JSON.parse(result.stdout)).toEqual([expect.objectContaining({ user_id: null, total_tokens: 30 })]);
  });

  it("exits 2 naming the flag for a bad --bucket, --group-by or --limit, or a flag the report does not take", async () => {
    const badBucket = await cli("over-time", "--bucket", "week", "--from", "2026-03-07", "--to", "2026-03-09");
    expect(badBucket.code).toBe(2);
    expect(badBucket.stderr).toContain('--bucket: expected "hour" or "day", got "week"');
    const missing = await cli("over-time", "--bucket", "day", "--to", "2026-03-09");
    expect(missing.stderr).toContain("--from: required");
    const badGroup = await cli("over-time", "--bucket", "day", "--from", "2026-03-07", "--to", "2026-03-09", "--group-by", "provider");
    expect(badGroup.stderr).toContain("--group-by:");
    const badLimit = await cli("failures", "--limit", "lots");
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('--limit: expected an integer from 1 to 1,000, got "lots"');
    const notTaken = await cli("summary", "--limit", "3");
    expect(notTaken.code).toBe(2);
    expect(notTaken.stderr).toContain("--limit does not apply to summary");
  });
});
