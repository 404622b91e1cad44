// The stats as a plain aggregation over the raw rows (written here, independent
// of src/stats), and the same figures from the stats functions, for comparing.
import type { Sql } from "postgres";
import { getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats, type StatsFilter } from "../../../src/stats/index.js";
import { randomBound, ZONES, type RangeArg } from "./random-usage.js";

export interface Case {
  zone: string;
  start: RangeArg;
  end: RangeArg;
  where: (db: Sql) => ReturnType<Sql>;
}

export function randomCases(rand: () => number, perZone: number): Case[] {
  const cases: Case[] = [];
  for (const zone of ZONES) {
    for (let i = 0; i < perZone; i += 1) {
      const start = randomBound(rand, "start");
      const end = randomBound(rand, "end");
      cases.push({ zone, start: start.arg, end: end.arg, where: (db) => db`created_at >= ${start.sql(db, zone)} AND created_at < ${end.sql(db, zone)}` });
    }
  }
  return cases;
}

const n = (value: unknown) => Number(value);

/** The plain aggregation over the raw rows, shaped like the stats' results. */
export async function reference(db: Sql, c: Case) {
  const where = c.where(db);
  const totals = db`count(*) AS total_calls, coalesce(sum(prompt_tokens), 0) AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0) AS total_completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
    round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd,
    coalesce(round(avg(latency_ms), 3), 0)::float8 AS avg_latency_ms,
    coalesce(round(avg(time_to_first_token_ms), 3), 0)::float8 AS avg_time_to_first_token_ms`;
  const grouped = (row: Record<string, unknown>) => ({
    total_calls: n(row.total_calls),
    total_prompt_tokens: n(row.total_prompt_tokens),
    total_completion_tokens: n(row.total_completion_tokens),
    total_tokens: n(row.total_tokens),
    total_cost_usd: n(row.total_cost_usd),
    avg_latency_ms: n(row.avg_latency_ms),
    avg_time_to_first_token_ms: n(row.avg_time_to_first_token_ms),
  });
  const [summary] = await db`SELECT ${totals}, count(*) FILTER (WHERE success) AS successful_calls,
    count(*) FILTER (WHERE NOT success) AS failed_calls, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls
    FROM llm_tracker_usage WHERE ${where}`;
  const byModel = await db`SELECT model, ${totals} FROM llm_tracker_usage WHERE ${where}
    GROUP BY model ORDER BY total_tokens DESC, model COLLATE "C"`;
  const byUser = await db`SELECT user_id, ${totals} FROM llm_tracker_usage WHERE ${where}
    GROUP BY user_id ORDER BY total_tokens DESC, user_id COLLATE "C" NULLS LAST`;
  const byNode = await db`SELECT node_name, ${totals}
    FROM (SELECT metadata->>'node_name' AS node_name, * FROM llm_tracker_usage WHERE ${where}) AS with_node
    GROUP BY node_name ORDER BY total_tokens DESC, node_name COLLATE "C" NULLS LAST`;
  const byDay = await db`SELECT to_char((created_at AT TIME ZONE ${c.zone})::date, 'YYYY-MM-DD') AS date, count(*) AS total_calls,
    sum(total_tokens) AS total_tokens, round(coalesce(sum(cost_usd), 0), 6)::float8 AS total_cost_usd
    FROM llm_tracker_usage WHERE ${where} GROUP BY 1 ORDER BY 1`;
  return {
    summary: {
      ...grouped(summary!),
      successful_calls: n(summary!.successful_calls),
      failed_calls: n(summary!.failed_calls),
      unpriced_calls: n(summary!.unpriced_calls),
    },
    byModel: byModel.map((row) => ({ model: row.model, ...grouped(row) })),
    byUser: byUser.map((row) => ({ user_id: row.user_id, ...grouped(row) })),
    byNode: byNode.map((row) => ({ node_name: row.node_name, ...grouped(row) })),
    byDay: byDay.map((row) => ({ date: row.date, total_calls: n(row.total_calls), total_tokens: n(row.total_tokens), total_cost_usd: n(row.total_cost_usd) })),
  };
}

/** The stats functions' answers for `c`, narrowed by `filter` when given. */
export async function stats(db: Sql, c: Case, filter?: StatsFilter) {
  const options = { db, timeZone: c.zone, filter };
  return {
    summary: await getSummaryStats(c.start, c.end, options),
    byModel: await getStatsByModel(c.start, c.end, options),
    byUser: await getStatsByUser(c.start, c.end, options),
    byNode: await getStatsByNode(c.start, c.end, options),
    byDay: await getStatsByDay(c.start, c.end, options),
  };
}

