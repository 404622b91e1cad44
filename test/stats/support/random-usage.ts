// Seeded pseudo-random usage rows and range bounds for the tests that compare
// the stats with a plain aggregation over the raw rows (deterministic: a
// failure replays exactly).
import type { Sql } from "postgres";

/** mulberry32: a small deterministic generator, so a failure replays exactly. */
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

export const ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"];
const MODELS = ["gpt-4o", "gpt-4o-mini", "gemini-2.5-flash", "gemini-2.5-pro", "o3"];
const USERS = ["u1", "u2", "u3", "u4", "u5", "", null];
const NODES = ["interpret", "summarize", "plan", "", null];

// 2026-03-05 .. 2026-04-08 (UTC): New York springs forward on March 8, Lord Howe
// falls back half an hour on April 5.
const FIRST_US = Date.UTC(2026, 2, 5) * 1000;
const SPAN_US = 34 * 86_400_000_000;
const HOUR_US = 3_600_000_000;

/** An instant in whole microseconds as ISO text Postgres reads exactly. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${String(us % 1_000_000).padStart(6, "0")}Z`);
}

export interface SeedRow {
  id: string;
  user_id: string | null;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  success: boolean;
  error: string | null;
  metadata: Record<string, string>;
  created_at: string;
  cost_usd: string | null;
  latency_ms: number | null;
  streamed: boolean;
  time_to_first_token_ms: number | null;
}

export function seedRows(rand: () => number, count: number): SeedRow[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const rows: SeedRow[] = [];
  for (let i = 0; i < count; i += 1) {
    // A third of the rows sit within a few microseconds of an hour boundary (UTC
    // hours, and the :15 / :30 / :45 marks where other zones' days start).
    let us = FIRST_US + Math.floor(rand() * SPAN_US);
    if (rand() < 0.33) us = us - (us % (HOUR_US / 4)) + pick([-1, 0, 1, 2]);
    const prompt = Math.floor(rand() * 3000);
    const completion = Math.floor(rand() * 800);
    const success = rand() > 0.15;
    const node = pick(NODES);
    rows.push({
      id: crypto.randomUUID(),
      user_id: pick(USERS),
      model: pick(MODELS),
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_tokens: Math.floor(prompt / 3),
      reasoning_tokens: 0,
      success,
      error: success ? null : "provider said no",
      metadata: node === null ? { source_type: "task" } : { node_name: node },
      created_at: isoMicros(us),
      cost_usd: rand() < 0.2 ? null : (rand() / 10).toFixed(10),
      ...timing(rand),
    });
  }
  return rows;
}

/** Latency (sometimes missing, as in rows from elsewhere) and, for a third of the calls, a stream's time to first token. */
function timing(rand: () => number): Pick<SeedRow, "latency_ms" | "streamed" | "time_to_first_token_ms"> {
  const latency = rand() < 0.1 ? null : Math.floor(rand() * 20_000);
  const streamed = rand() < 0.33;
  return { latency_ms: latency, streamed, time_to_first_token_ms: streamed && latency !== null ? Math.floor(latency * rand()) : null };
}

export type Side = "start" | "end";
export type RangeArg = Date | string | undefined;

/** A random bound in one of the forms the stats accept, and the instant a reader of the contract expects. */
export function randomBound(rand: () => number, side: Side): { arg: RangeArg; sql: (db: Sql, zone: string) => ReturnType<Sql> } {
  const us = FIRST_US - 86_400_000_000 + Math.floor(rand() * (SPAN_US + 2 * 86_400_000_000));
  const iso = isoMicros(us);
  const kind = rand();
  if (kind < 0.1) return { arg: undefined, sql: (db) => (side === "start" ? db`'-infinity'::timestamptz` : db`'infinity'::timestamptz`) };
  if (kind < 0.4) {
    const date = iso.slice(0, 10);
    // A date alone is that day's local midnight as a start, the next day's as an end.
    return {
      arg: date,
      sql: (db, zone) => (side === "start" ? db`(${date}::date::timestamp AT TIME ZONE ${zone})` : db`((${date}::date + 1)::timestamp AT TIME ZONE ${zone})`),
    };
  }
  if (kind < 0.65) {
    // Wall-clock time with odd minutes and seconds, sometimes a fraction.
    const local = rand() < 0.5 ? iso.slice(0, 19) : iso.slice(0, 23);
    return { arg: local, sql: (db, zone) => db`(${local}::timestamp AT TIME ZONE ${zone})` };
  }
  if (kind < 0.85) {
    const offset = ["Z", "+08:00", "-04:30", "+05:45", "+0530"][Math.floor(rand() * 5)]!;
    const text = `${iso.slice(0, 19)}${offset}`;
    return { arg: text, sql: (db) => db`${text}::timestamptz` };
  }
  const date = new Date(Math.floor(us / 1000));
  return { arg: date, sql: (db) => db`${date.toISOString()}::timestamptz` };
}

