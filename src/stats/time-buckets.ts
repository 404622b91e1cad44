// The buckets of getStatsOverTime, as SQL: which bucket an instant falls in,
// how a bucket is named (its first instant, ISO 8601 with the zone's offset),
// and which buckets a range covers. Postgres does the zone arithmetic, with the
// same tz data it reads wall-clock bounds with, so the two always agree.
//
// A bucket is identified by a key (k_local, k_off): the local wall-clock start
// of the hour or day, and for hours the UTC offset in force (seconds), so the
// hour a fall-back night repeats is two buckets. For days k_off is 0: a local
// date is one bucket however long it is (23 or 25 hours across DST).
import type { PendingQuery, Row, Sql } from "postgres";

type Fragment = PendingQuery<Row[]>;

export type BucketUnit = "hour" | "day";

/** The longest a bucket can be, for bounding how far the bucket list is generated. */
const LONGEST = { hour: "1 hour", day: "26 hours" } as const;

/**
 * For a LATERAL join on the UTC hour starting at `b`: local wall-clock time at its first and
 * last microsecond, and the zone's offset at each (equal unless a switch falls inside the
 * hour). The bucket list and fromUsageBuckets both read an hour this way, so they agree on
 * which hours are steady. Two time zone lookups; the rest is arithmetic, since UTC wall-clock
 * time is the instant itself.
 */
export function hourClockOf(sql: Sql, zone: string, b: Fragment): Fragment {
  return sql`
    SELECT local_start, local_last, local_start - utc_start AS offset_at_start,
      local_last - (utc_start + interval '59:59.999999') AS offset_at_last
    FROM (
      SELECT ${b} AT TIME ZONE ${zone} AS local_start, (${b} + interval '59:59.999999') AT TIME ZONE ${zone} AS local_last, ${b} AT TIME ZONE 'UTC' AS utc_start
    ) AS instants`;
}

/** `SELECT k_local, k_off` of the bucket holding instant `x`, for a LATERAL join. */
export function bucketKeyOf(sql: Sql, unit: BucketUnit, zone: string, instant: Fragment): Fragment {
  const x = sql`(${instant})`;
  if (unit === "day") return sql`SELECT date_trunc('day', ${x} AT TIME ZONE ${zone}) AS k_local, 0 AS k_off`;
  return sql`
    SELECT date_trunc('hour', local_time) AS k_local, extract(epoch FROM local_time - (${x} AT TIME ZONE 'UTC'))::int AS k_off
    FROM (SELECT ${x} AT TIME ZONE ${zone} AS local_time) AS local_clock`;
}

/**
 * Instant `x` as ISO 8601 text in `zone` with that zone's offset at `x`:
 * `2026-03-08T03:00:00-04:00`, with `.ffffff` microseconds when `micros`.
 */
export function isoInZone(sql: Sql, instant: Fragment, zone: string, { micros = false } = {}): Fragment {
  const x = sql`(${instant})`;
  const format = micros ? 'YYYY-MM-DD"T"HH24:MI:SS.US' : 'YYYY-MM-DD"T"HH24:MI:SS';
  const offset = sql`extract(epoch FROM (${x} AT TIME ZONE ${zone}) - (${x} AT TIME ZONE 'UTC'))::int`;
  return sql`(to_char(${x} AT TIME ZONE ${zone}, ${format}) || ${offsetText(sql, offset)})`;
}

/** `±HH:MM` (`±HH:MM:SS` for the odd historical offset) of an offset in seconds. */
function offsetText(sql: Sql, seconds: Fragment): Fragment {
  return sql`(CASE WHEN ${seconds} < 0 THEN '-' ELSE '+' END || to_char(abs(${seconds}) / 3600, 'FM00') || ':'
    || to_char(abs(${seconds}) % 3600 / 60, 'FM00') || CASE WHEN abs(${seconds}) % 60 <> 0 THEN ':' || to_char(abs(${seconds}) % 60, 'FM00') ELSE '' END)`;
}

/**
 * `SELECT bucket_start, bucket_at` of the bucket keyed by columns k_local,
 * k_off in scope, for a LATERAL join. `bucket_start` is ISO text with the
 * zone's offset, `bucket_at` the same instant (timestamptz), to order by.
 *
 * An hour is named by its local start at its own offset. A day is named by its
 * first instant: its local midnight, except where midnight does not exist (a
 * spring-forward at 00:00 starts the day at 01:00) or exists twice (a fall-back
 * at 01:00 repeats 00:00; the day starts at the first). Postgres reads an
 * ambiguous wall-clock time at the later offset, so the candidates up to two
 * hours earlier are tried too, and the earliest still on that date wins.
 */
export function bucketLabelOf(sql: Sql, unit: BucketUnit, zone: string): Fragment {
  const iso = sql`'YYYY-MM-DD"T"HH24:MI:SS'`;
  if (unit === "hour") {
    return sql`
      SELECT to_char(k_local, ${iso}) || ${offsetText(sql, sql`k_off`)} AS bucket_start,
        (k_local - make_interval(secs => k_off)) AT TIME ZONE 'UTC' AS bucket_at`;
  }
  return sql`
    SELECT ${isoInZone(sql, sql`first_instant`, zone)} AS bucket_start, first_instant AS bucket_at
    FROM (
      SELECT min(candidate) AS first_instant
      FROM (SELECT k_local AT TIME ZONE ${zone} AS midnight) AS read_midnight
      CROSS JOIN LATERAL (VALUES (midnight - interval '2 hours'), (midnight - interval '1 hour'),
        (midnight - interval '30 minutes'), (midnight)) AS candidates(candidate)
      WHERE (candidate AT TIME ZONE ${zone})::date = k_local::date
    ) AS day_start`;
}

/**
 * The key (k_local, k_off) of every bucket [lo, hi) touches, in order, plus
 * range_seconds (hi − lo) and odd_hours (whether an hour of the range changes
 * offset inside it or has an offset off whole five minutes: the only hours
 * fromUsageBuckets may cut five-minute buckets in, away from the range's
 * edges): at most `cap` + 1 rows (more means the range holds more than `cap`).
 *
 * Read per UTC hour of the range. An hour whose offset holds through it (its
 * first and last microsecond have the same offset: all but the hours a DST
 * switch falls in, as fromUsageBuckets assumes too) maps its part of the range
 * onto one span of local clock time under an hour long, so the buckets it
 * touches are those of that part's first and last microsecond, keyed by
 * arithmetic: two time zone lookups per hour, whatever the bucket. An hour
 * whose offset changes is sampled at its part's start and each quarter-hour
 * mark inside it, keyed by the zone: every bucket of a zone whose offsets and
 * transitions fall on quarter hours (all zones since the 1970s) holds one.
 */
export function bucketKeysQuery(sql: Sql, unit: BucketUnit, zone: string, lo: Fragment, hi: Fragment, cap: number): Fragment {
  // Far enough for cap + 1 buckets whatever their length; a longer range is refused anyway.
  const reach = sql`(${cap + 2}::int * ${LONGEST[unit]}::text::interval)`;
  const steadyOffset = unit === "hour" ? sql`extract(epoch FROM offset_at_start)::int` : sql`0`;
  return sql`
    WITH bounds AS MATERIALIZED (SELECT ${lo} AS lo, ${hi} AS hi),
    hours AS (
      SELECT b, greatest(b, lo) AS part_lo, least(b + interval '1 hour', hi) AS part_hi, local_start,
        offset_at_start, offset_at_start = offset_at_last AS steady
      FROM bounds
      CROSS JOIN LATERAL generate_series(date_trunc('hour', lo, 'UTC'), least(hi, lo + ${reach}) - interval '1 microsecond', interval '1 hour') AS b
      CROSS JOIN LATERAL (${hourClockOf(sql, zone, sql`b`)}) AS clock
      WHERE lo < hi
    ),
    keys AS (
      SELECT date_trunc(${unit}, local_start + (part_lo - b)) AS k_local, ${steadyOffset} AS k_off FROM hours WHERE steady
      UNION ALL
      SELECT date_trunc(${unit}, local_start + (part_hi - interval '1 microsecond' - b)), ${steadyOffset} FROM hours WHERE steady
      UNION ALL
      SELECT k.k_local, k.k_off
      FROM hours
      CROSS JOIN LATERAL (
        SELECT part_lo AS x
        UNION ALL
        SELECT x FROM generate_series(b + interval '15 minutes', b + interval '45 minutes', interval '15 minutes') AS x WHERE x > part_lo AND x < part_hi
      ) AS samples
      CROSS JOIN LATERAL (${bucketKeyOf(sql, unit, zone, sql`samples.x`)}) AS k
      WHERE NOT steady
    )
    SELECT k_local, k_off, extract(epoch FROM (SELECT hi - lo FROM bounds))::float8 AS range_seconds,
      (SELECT coalesce(bool_or(NOT steady OR extract(epoch FROM offset_at_start)::int % 300 <> 0), false) FROM hours) AS odd_hours
    FROM keys
    GROUP BY k_local, k_off
    ORDER BY k_local - make_interval(secs => k_off)
    LIMIT ${cap + 1}::int`;
}
