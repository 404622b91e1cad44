// Splits a stats range [lo, hi) into whole rollup buckets and the raw-row edges
// around them, as one SQL CTE (`plan`) the stats queries read their spans from.
//
// Why the sum stays exact: the pieces below partition [lo, hi) — no instant is
// in two of them, none is left out — and each piece is summed from a source
// that holds exactly its rows:
//   raw rows      [lo, m_lo)     m_lo = first five-minute boundary at or after lo
//   five minutes  [m_lo, h_lo)   h_lo = first hour boundary at or after m_lo
//   hours         [h_lo, d_lo)   d_lo = first UTC day boundary at or after h_lo
//   days          [d_lo, d_hi)   d_hi = last UTC day boundary at or before h_hi
//   hours         [d_hi, h_hi)   h_hi = last hour boundary at or before m_hi
//   five minutes  [h_hi, m_hi)   m_hi = last five-minute boundary at or before hi
//   raw rows      [m_hi, hi)
// Bucket boundaries are UTC-aligned instants, as the rollup's triggers make
// them, so a bucket lies either wholly inside a span or wholly outside it, and
// the rollup row of a bucket is the sum of the raw rows in it (the triggers
// fold every insert, update and delete into it in the same transaction). Each
// level is planned inside the one before: when [m_lo, m_hi) holds no whole
// hour, h_lo = h_hi = m_hi and the five-minute spans take it all; when [lo, hi)
// holds no whole five minutes, m_lo = m_hi = hi and the raw rows do. Each such
// step (least(ceil(a), b), greatest(that, floor(b))) yields either two aligned
// boundaries a ≤ x ≤ y ≤ b or x = y = b, so lo ≤ m_lo ≤ h_lo ≤ d_lo ≤ d_hi ≤
// h_hi ≤ m_hi ≤ hi whenever lo ≤ hi. Open ends are ±infinity, which date_trunc,
// date_bin and the arithmetic keep. Days and hours are fixed lengths here (24
// hours, not '1 day', which Postgres would stretch across the session time
// zone's DST changes).
import type { PendingQuery, Row, Sql } from "postgres";
import type { Bound, DateRange } from "../query/date-range.js";
import { boundInstant } from "../query/query-sql.js";

type Fragment = PendingQuery<Row[]>;

/** The rollup's groupings: one row per bucket and model, user or node. */
export type Dimension = "model" | "user" | "node";

/** Where rows are read from: a grouping, or `total` (one row per bucket, key ''). */
export type RollupDimension = Dimension | "total";

/** The rollup's bucket sizes (the plan's spans use five minutes, hours and days; half hours are read by usage-sources.ts). */
export type Grain = "five_minutes" | "half_hour" | "hour" | "day";

export interface PlanOptions {
  /**
   * Whether whole UTC days are read from the day buckets. Queries that place
   * rows on local days use hours only (a UTC day spans two local days
   * elsewhere). Default true.
   */
  days?: boolean;
  /**
   * Whether open ends are closed at the first and last day the rollup holds,
   * for queries that list the buckets of the range one by one. Default false.
   */
  bounded?: boolean;
}

/** The instant five-minute buckets are aligned on (as date_bin in the rollup triggers, drizzle/0006). */
export const FIVE_MINUTE_ORIGIN = "2000-01-01T00:00:00Z";

/** The CTE `plan AS (…)`: one row with lo, hi, m_lo, h_lo, d_lo, d_hi, h_hi, m_hi (timestamptz), as described above. */
export function rangePlanCte(sql: Sql, range: DateRange, { days = true, bounded = false }: PlanOptions = {}): Fragment {
  let lo = range.from ? boundInstant(sql, range.from, range.timeZone) : sql`'-infinity'::timestamptz`;
  let hi = range.to ? boundInstant(sql, range.to, range.timeZone) : sql`'infinity'::timestamptz`;
  if (bounded) {
    // The rollup's day buckets span every row (the first starts at or before the
    // oldest row, the last ends after the newest): open ends close there.
    const extent = (edge: "min" | "max") =>
      sql`(SELECT ${edge === "min" ? sql`min(bucket)` : sql`max(bucket) + interval '24 hours'`} FROM llm_tracker_usage_rollup WHERE grain = 'day' AND dimension = 'total')`;
    if (!range.from) lo = sql`coalesce(${extent("min")}, now())`;
    if (!range.to) hi = sql`coalesce(${extent("max")}, now())`;
  }
  // ceil(t) to a boundary is floor(t − 1 µs) + 1 unit: timestamps are whole microseconds.
  const ceil5 = (x: Fragment) => sql`date_bin('5 minutes', ${x} - interval '1 microsecond', ${FIVE_MINUTE_ORIGIN}::timestamptz) + interval '5 minutes'`;
  const floor5 = (x: Fragment) => sql`date_bin('5 minutes', ${x}, ${FIVE_MINUTE_ORIGIN}::timestamptz)`;
  const dLo = days ? sql`least(date_trunc('day', h_lo - interval '1 microsecond', 'UTC') + interval '24 hours', h_hi)` : sql`h_hi`;
  return sql`
    plan AS MATERIALIZED (
      SELECT lo, hi, m_lo, m_hi, h_lo, h_hi, d_lo, greatest(d_lo, date_trunc('day', h_hi, 'UTC')) AS d_hi
      FROM (
        SELECT lo, hi, m_lo, m_hi, h_lo, h_hi, ${dLo} AS d_lo
        FROM (
          SELECT lo, hi, m_lo, m_hi, h_lo, greatest(h_lo, date_trunc('hour', m_hi, 'UTC')) AS h_hi
          FROM (
            SELECT lo, hi, m_lo, m_hi, least(date_trunc('hour', m_lo - interval '1 microsecond', 'UTC') + interval '1 hour', m_hi) AS h_lo
            FROM (
              SELECT lo, hi, m_lo, greatest(m_lo, ${floor5(sql`hi`)}) AS m_hi
              FROM (
                SELECT lo, hi, least(${ceil5(sql`lo`)}, hi) AS m_lo
                FROM (SELECT ${lo} AS lo, ${hi} AS hi) AS bounds
              ) AS step_1
            ) AS step_2
          ) AS step_3
        ) AS step_4
      ) AS step_5
    )`;
}

export type PlanColumn = "lo" | "hi" | "m_lo" | "m_hi" | "h_lo" | "h_hi" | "d_lo" | "d_hi";

/** A column of the plan as a scalar (an InitPlan, so the index scans below get plain bounds). */
export function planned(sql: Sql, column: PlanColumn): Fragment {
  return sql`(SELECT ${sql(column)} FROM plan)`;
}

/**
 * Rollup rows of `dimension` in the planned whole buckets, with `columns`
 * selected (day, hour and five-minute spans); with `hoursOnly` only the hour
 * spans (for queries that place buckets themselves); `where` (`AND …`) narrows the rows further (one key). One
 * SELECT per span, each an index range scan on the rollup key.
 */
export function rollupSpans(
  sql: Sql,
  dimension: RollupDimension,
  columns: Fragment,
  { hoursOnly = false, where = sql`` }: { hoursOnly?: boolean; where?: Fragment } = {},
): Fragment {
  const span = (grain: Grain, from: Fragment, to: Fragment) => sql`
    SELECT ${columns} FROM llm_tracker_usage_rollup
    WHERE grain = ${grain} AND dimension = ${dimension} AND bucket >= ${from} AND bucket < ${to} ${where}`;
  const hours = sql`
    ${span("hour", planned(sql, "h_lo"), planned(sql, "d_lo"))}
    UNION ALL
    ${span("hour", planned(sql, "d_hi"), planned(sql, "h_hi"))}`;
  if (hoursOnly) return hours;
  return sql`
    ${hours}
    UNION ALL
    ${span("day", planned(sql, "d_lo"), planned(sql, "d_hi"))}
    UNION ALL
    ${span("five_minutes", planned(sql, "m_lo"), planned(sql, "h_lo"))}
    UNION ALL
    ${span("five_minutes", planned(sql, "h_hi"), planned(sql, "m_hi"))}`;
}

// The usage table is partitioned by day (drizzle/0007). The plan's bounds reach
// the raw reads as InitPlans, which Postgres only knows while executing: it
// would plan a scan of every partition (~0.5 ms each) and skip them at run time.
// So each raw read also carries bounds computed here, as timestamptz parameters
// (constants when the statement is planned), that contain what it reads: the
// planner then leaves out every partition outside them. They only widen the
// plan's own conditions, so the rows read are the same.

const HOUR_MS = 3_600_000;
/** UTC offsets lie within −12 h … +14 h: a wall-clock bound names an instant within 14 h of itself read as UTC. */
const WALL_CLOCK_SLACK_MS = 14 * HOUR_MS;

/** The instants a bound may name, as [earliest, latest) in ms (an instant's microseconds lie inside its millisecond). */
function boundWindow(bound: Bound | undefined): [number, number] | undefined {
  if (!bound) return undefined;
  const ms = bound.kind === "instant" ? Date.parse(bound.iso) : Date.parse(`${bound.local}Z`);
  if (!Number.isFinite(ms)) return undefined;
  return bound.kind === "instant" ? [ms, ms + 1] : [ms - WALL_CLOCK_SLACK_MS, ms + WALL_CLOCK_SLACK_MS + 1];
}

/** `AND created_at >= … AND created_at < …` from ms bounds; an unknown bound leaves that side open. */
function pruning(sql: Sql, from: number | undefined, to: number | undefined): Fragment {
  // Millisecond ISO text, typed by the cast (a Date would need postgres.js's date serializer, which a caller's pool may lack).
  const low = from === undefined ? sql`` : sql`AND created_at >= ${new Date(from).toISOString()}::timestamptz`;
  const high = to === undefined ? sql`` : sql`AND created_at < ${new Date(to).toISOString()}::timestamptz`;
  return sql`${low} ${high}`;
}

/** Partition-pruning bounds containing the whole range [lo, hi). */
export function withinRange(sql: Sql, range: DateRange): Fragment {
  return pruning(sql, boundWindow(range.from)?.[0], boundWindow(range.to)?.[1]);
}

/**
 * Raw usage rows in the planned edges [lo, m_lo) and [m_hi, hi), with `columns`
 * selected; `where` (`AND …`) narrows them. Each edge lies within five minutes
 * after lo or before hi (an hour is a safe, wider bound for the partitions it reads).
 */
export function rawEdges(sql: Sql, range: DateRange, columns: Fragment, where: Fragment = sql``): Fragment {
  const lo = boundWindow(range.from);
  const hi = boundWindow(range.to);
  return sql`
    SELECT ${columns} FROM llm_tracker_usage
    WHERE created_at >= ${planned(sql, "lo")} AND created_at < ${planned(sql, "m_lo")} ${where}
      ${pruning(sql, lo?.[0], lo ? lo[1] + HOUR_MS : hi?.[1])}
    UNION ALL
    SELECT ${columns} FROM llm_tracker_usage
    WHERE created_at >= ${planned(sql, "m_hi")} AND created_at < ${planned(sql, "hi")} ${where}
      ${pruning(sql, hi ? hi[0] - HOUR_MS : lo?.[0], hi?.[1])}`;
}

/** Raw usage rows in the whole range [lo, hi) matching `where` (`AND …`): for filters the rollup cannot answer. */
export function rawRange(sql: Sql, range: DateRange, columns: Fragment, where: Fragment): Fragment {
  return sql`
    SELECT ${columns} FROM llm_tracker_usage
    WHERE created_at >= ${planned(sql, "lo")} AND created_at < ${planned(sql, "hi")} ${where} ${withinRange(sql, range)}`;
}
