// A plausible usage history for the dashboard's tests and screenshot: calls
// every hour of the last days with a daily rhythm, a few heavy users and many
// light ones, several models and pipeline nodes, and some failures with the
// error texts providers really send. Deterministic for a seed.
import { randomUUID } from "node:crypto";
import type { Sql } from "postgres";
import { priceEvent } from "../../../src/cost/index.js";

export interface HistoryRow {
  id: string;
  user_id: string | null;
  model: string;
  provider: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  success: boolean;
  error: string | null;
  metadata: Record<string, string>;
  created_at: string;
  latency_ms: number;
  cost_usd: string | null;
}

export interface HistoryOptions {
  /** The end of the history (exclusive). */
  now: Date;
  days: number;
  /** Average calls per hour (the daily rhythm moves it between ~0.3× and ~1.7×). */
  callsPerHour: number;
  seed: number;
}

/** mulberry32: small, deterministic. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS: [provider: string, model: string, weight: number, promptScale: number, completionScale: number][] = [
  ["openai", "gpt-4o-mini", 34, 1800, 350],
  ["openai", "gpt-4o", 16, 2600, 500],
  ["gemini", "gemini-2.5-flash", 22, 2200, 420],
  ["gemini", "gemini-2.5-pro", 6, 5200, 900],
  ["openai", "o3-mini", 5, 1500, 2200],
  ["azure_openai", "gpt-4.1", 9, 3000, 600],
  ["openai", "ft:gpt-4o-mini:acme:support-v2", 3, 900, 200],
];
const NODES: [name: string | null, weight: number][] = [
  ["interpret", 30],
  ["summarize", 22],
  ["classify", 16],
  ["extract_entities", 12],
  ["plan", 8],
  ["answer", 9],
  [null, 3],
];
const ERRORS = [
  "429 Rate limit reached for gpt-4o in organization org-*** on tokens per min (TPM): Limit 30000, Used 29788, Requested 1380.",
  "500 The server had an error while processing your request. Sorry about that!",
  "Request timed out.",
  "400 This model's maximum context length is 128000 tokens. However, your messages resulted in 131877 tokens.",
  "503 The model is overloaded. Please try again later.",
  "stream aborted by the caller",
  "connection lost mid-stream (ECONNRESET)",
];

function weighted<T>(rand: () => number, items: [T, number][]): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = rand() * total;
  for (const [item, weight] of items) {
    roll -= weight;
    if (roll < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** Rows of [now − days, now), oldest first. */
export function usageHistory({ now, days, callsPerHour, seed }: HistoryOptions): HistoryRow[] {
  const rand = random(seed);
  // 60 users: a handful of heavy ones, a long tail; 5% of calls without a user.
  const users: [string | null, number][] = Array.from({ length: 60 }, (_, i) => [
    i < 4 ? ["svc-batch-import", "alice@acme.io", "bob@acme.io", "support-bot"][i]! : `user_${(i * 7919).toString(36).padStart(4, "0")}`,
    i < 4 ? 40 - i * 8 : 30 / i,
  ]);
  users.push([null, 4]);
  const rows: HistoryRow[] = [];
  const end = now.getTime();
  const hours = days * 24;
  for (let h = hours; h > 0; h -= 1) {
    const hourStart = end - h * 3_600_000;
    const utcHour = new Date(hourStart).getUTCHours();
    // Busiest around 06:00 UTC (14:00 in Shanghai), quietest at night there; weekdays busier.
    const rhythm = 1 + 0.7 * Math.cos(((utcHour - 6) / 24) * 2 * Math.PI);
    const weekday = new Date(hourStart).getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? 0.55 : 1;
    const count = Math.round(callsPerHour * rhythm * weekly * (0.6 + rand() * 0.8));
    for (let i = 0; i < count; i += 1) {
      const [provider, model, , promptScale, completionScale] = weighted(rand, MODELS.map((m) => [m, m[2]]));
      const node = weighted(rand, NODES);
      const failed = rand() < (model === "gpt-4o" && utcHour >= 5 && utcHour <= 8 ? 0.12 : 0.025);
      const prompt = Math.max(1, Math.round(promptScale * (0.3 + rand() * 1.4)));
      const completion = failed ? 0 : Math.max(1, Math.round(completionScale * (0.2 + rand() * 1.6)));
      const reasoning = model.startsWith("o3") ? Math.round(completion * 0.7) : 0;
      const cached = rand() < 0.4 ? Math.round(prompt * rand() * 0.6) : 0;
      const priced = priceEvent({ provider, model, prompt_tokens: prompt, completion_tokens: completion, cached_tokens: cached, reasoning_tokens: reasoning });
      const createdAt = Math.min(end - 1, hourStart + Math.floor(rand() * 3_600_000));
      rows.push({
        id: randomUUID(),
        user_id: weighted(rand, users),
        model,
        provider,
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        cached_tokens: cached,
        reasoning_tokens: reasoning,
        success: !failed,
        error: failed ? ERRORS[Math.floor(rand() * ERRORS.length)]! : null,
        metadata: node === null ? { source_type: "task" } : { node_name: node, source_type: "task" },
        created_at: new Date(createdAt).toISOString(),
        latency_ms: Math.round(400 + rand() * (completion * 4 + 900)),
        cost_usd: priced.costUsd,
      });
    }
  }
  return rows;
}

/** Inserts `rows` into llm_tracker_usage in statements of 1000. */
export async function insertRows(sql: Sql, rows: readonly object[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await sql`INSERT INTO llm_tracker_usage ${sql(rows.slice(i, i + 1000) as Record<string, unknown>[])}`;
  }
}
