// Quick measurement (not a test): rows/s of the worker's lean insert vs drizzle's
// query builder, same rows, same batch size, into a fresh database.
// Run: npx tsx bench/worker-insert.ts [rows=100000] [batch=2000]
import { randomUUID } from "node:crypto";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { insertUsageRows } from "../workers/insert-usage-rows.js";
import { runMigrations } from "../src/db/migrate.js";
import { llmTrackerUsage } from "../src/db/schema.js";
import type { UsageEvent } from "../src/usage/usage-event.js";
import { createTestDatabase } from "../test/support/test-database.js";

const total = Number(process.argv[2] ?? 100_000);
const batch = Number(process.argv[3] ?? 2_000);

function makeEvent(i: number): UsageEvent {
  return {
    v: 1, id: randomUUID(), created_at: new Date(Date.now() - i).toISOString(), provider: "openai", model: "gpt-4o-mini",
    deployment: null, prompt_tokens: 120, completion_tokens: 40, total_tokens: 160, cached_tokens: 0, reasoning_tokens: 0,
    usage_reported: true, success: true, error: null, latency_ms: 321, user_id: `user-${i % 50}`,
    metadata: { node_name: "interpret", source_type: "task", source_task_id: randomUUID(), source_path: "/a/b" },
  };
}

const db = await createTestDatabase("llmt_bench");
await runMigrations(db.url);
const sql = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
const orm = drizzle(sql);
try {
  for (const [name, write] of [
    ["lean unnest insert", (events: UsageEvent[]) => insertUsageRows(sql, events)],
    [
      "drizzle builder insert",
      (events: UsageEvent[]) =>
        orm.insert(llmTrackerUsage).values(events.map((e) => ({
          id: e.id, userId: e.user_id, model: e.model, promptTokens: e.prompt_tokens, completionTokens: e.completion_tokens,
          totalTokens: e.total_tokens, cachedTokens: e.cached_tokens, reasoningTokens: e.reasoning_tokens, success: e.success,
          error: e.error, metadata: e.metadata, createdAt: new Date(e.created_at), provider: e.provider, deployment: e.deployment,
          latencyMs: e.latency_ms, usageReported: e.usage_reported,
        }))).onConflictDoNothing(),
    ],
  ] as const) {
    const batches = Array.from({ length: Math.ceil(total / batch) }, (_, b) => Array.from({ length: batch }, (_, i) => makeEvent(b * batch + i)));
    await write(batches[0]!.map((e) => ({ ...e, id: randomUUID() }))); // warm up (prepare)
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (const events of batches) await write(events);
    const seconds = (performance.now() - start) / 1000;
    const cpuMs = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000;
    console.log(`${name.padEnd(24)} ${Math.round(total / seconds).toLocaleString("en")} rows/s, node CPU ${(cpuMs / total * 1000).toFixed(1)} µs/row`);
  }
} finally {
  await sql.end();
  await db.drop();
}
