// The rows a stats query sums: whole rollup buckets plus raw rows at the edges
// (planned by range-plan.ts), in one shape, so each stats function groups and
// orders them exactly as a plain aggregation over the raw rows would.
import type { PendingQuery, Row, Sql } from "postgres";
import type { DateRange } from "../query/date-range.js";
import { planned, rangePlanCte, rawEdges, rawRange, rollupSpans, withinRange, type Dimension, type Grain, type RollupDimension } from "./range-plan.js";
import { rawRowsIn, rawRowsMatching, rawRowsOfAny, rollupRowsIn, rollupRowsOf, rollupRowsOfAny, type FilterTerm } from "./stats-filter.js";
import { averageColumn, costColumn } from "./stats-sql.js";
import { bucketKeyOf, hourClockOf, type BucketUnit } from "./time-buckets.js";

type Fragment = PendingQuery<Row[]>;

export type { Dimension };

/** The result column each dimension groups by, read from a rollup row and from a raw row. */
export function groupColumn(sql: Sql, dimension: Dimension): { rollup: Fragment; raw: Fragment } {
  // The rollup stores a null user / node as key '' with key_is_null, so '' and null stay apart.
  const nullableKey = sql`CASE WHEN key_is_null THEN NULL ELSE key END`;
  if (dimension === "model") return { rollup: sql`key AS model`, raw: sql`model` };
  if (dimension === "user") return { rollup: sql`${nullableKey} AS user_id`, raw: sql`user_id` };
  return { rollup: sql`${nullableKey} AS node_name`, raw: sql`metadata->>'node_name' AS node_name` };
}

/**
 * Where a (possibly filtered) query reads its whole buckets. The rollup holds
 * one grouping at a time (per model, per user or per node), so it answers a
 * filter only on the dimension the query groups by (or on any one dimension
 * when the query does not group): then it is narrowed to the filtered key.
 * Any other filter — a user's calls per model, or two terms at once — is
 * summed from the raw rows of the whole range (exact, but a scan of the
 * range's rows through the created_at, user or model index).
 */
type Source = { kind: "rollup"; dimension: RollupDimension; term?: FilterTerm } | { kind: "raw" };

function sourceFor(grouping: Dimension | null, terms: FilterTerm[]): Source {
  // Without a grouping or a filter, the `total` rows: one per bucket.
  if (terms.length === 0) return { kind: "rollup", dimension: grouping ?? "total" };
  const [term] = terms;
  if (terms.length === 1 && (grouping === null || grouping === term!.dimension)) return { kind: "rollup", dimension: term!.dimension, term };
  return { kind: "raw" };
}

/** The rollup's additive columns, summed by the stats. */
const SUMMED = [
  "calls", "successful_calls", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "unpriced_calls",
  "latency_ms_sum", "latency_calls", "ttft_ms_sum", "ttft_calls",
];

/** A raw usage row as the rollup's additive columns (SUMMED), so the two can be summed together. */
function rawSummed(sql: Sql): Fragment {
  return sql`1 AS calls, success::int AS successful_calls, prompt_tokens, completion_tokens,
    total_tokens, cost_usd, (cost_usd IS NULL)::int AS unpriced_calls,
    coalesce(latency_ms, 0)::int8 AS latency_ms_sum, (latency_ms IS NOT NULL)::int AS latency_calls,
    coalesce(time_to_first_token_ms, 0)::int8 AS ttft_ms_sum, (time_to_first_token_ms IS NOT NULL)::int AS ttft_calls`;
}

/**
 * `WITH plan AS (…)` for `range`, then a query over `usage_parts`: rows with
 * the grouping's column (`model`, `user_id` or `node_name`; none when
 * `grouping` is null) and calls, successful_calls, prompt_tokens,
 * completion_tokens, total_tokens, cost_usd, unpriced_calls, latency_ms_sum,
 * latency_calls, ttft_ms_sum, ttft_calls, of the calls that match `terms`. `select` is the rest of the statement after `FROM usage_parts`.
 */
export function fromUsageParts(
  sql: Sql,
  range: DateRange,
  grouping: Dimension | null,
  select: Fragment,
  rest: Fragment,
  terms: FilterTerm[] = [],
): Fragment {
  const group = grouping === null ? { rollup: sql`1 AS one`, raw: sql`1 AS one` } : groupColumn(sql, grouping);
  const rawColumns = sql`${group.raw}, ${rawSummed(sql)}`;
  const source = sourceFor(grouping, terms);
  const parts =
    source.kind === "raw"
      ? rawRange(sql, range, rawColumns, rawRowsMatching(sql, terms))
      : sql`
        ${rollupSpans(sql, source.dimension, sql`${group.rollup}, ${sql(SUMMED)}`, { where: source.term ? rollupRowsOf(sql, source.term) : sql`` })}
        UNION ALL
        ${rawEdges(sql, range, rawColumns, rawRowsMatching(sql, terms))}`;
  return sql`
    WITH ${rangePlanCte(sql, range)}
    SELECT ${select}
    FROM (${parts}) AS usage_parts
    ${rest}`;
}

export interface BucketSourceOptions {
  /**
   * The caller knows that no hour of the range changes offset inside it or
   * has an offset off whole five minutes (bucketKeysQuery's odd_hours is
   * false). Every bucket boundary then falls on a five-minute mark, so no
   * five-minute bucket is cut and no hour needs its five minutes listed: the
   * branches that read those (raw rows of a cut five minutes, planned against
   * every partition of the range; the five minutes of an hour a switch falls
   * in or of an offset in seconds) are left out of the statement, which then
   * plans ~0.5 ms faster. Default false.
   */
  noOddHours?: boolean;
  /**
   * Only the rows of these keys of the grouping (a non-empty list; null = the
   * calls without a user / node): the series a caller ranked first, so the
   * rollup rows of the others are never fetched. Needs `grouping`.
   */
  onlyKeys?: readonly (string | null)[];
  /** The same from a subquery of the statement (non-null keys: models), for keys ranked in the statement itself. */
  onlyKeysIn?: Fragment;
}

/**
 * `WITH plan AS (…), hours AS (…), fives AS (…)`, then a query over
 * `usage_buckets`: rows with the bucket key (k_local, k_off; see
 * time-buckets.ts), the grouping's column when `grouping` is given (else all
 * calls), and the summed columns of usage_parts, of the calls that match
 * `terms`. Open ends of the range close at the rollup's first and last day.
 *
 * A rollup hour is placed in a bucket only when it lies wholly inside it (its
 * first and last microsecond have the same key); an hour a bucket boundary cuts
 * (a local hour or midnight at :30 / :45 UTC, as in Asia/Kolkata or
 * Asia/Kathmandu) is read from finer rollup buckets instead, each placed
 * wholly in one bucket: when the zone's offset holds through the hour, its two
 * half-hour buckets if the offset is whole half hours (the cut then falls at
 * :30) and the rollup has half hours of the dimension read (model, node, total:
 * not user, see drizzle/0009), else its twelve five-minute buckets if whole
 * five minutes (placed by one comparison with the instant of the cut); otherwise (a DST switch inside
 * the hour, an offset in seconds) its twelve five-minute buckets from a
 * generated list, each keyed by the zone. Only a five-minute bucket that is
 * itself cut (no zone since the 1970s has such an offset) is read from the raw
 * rows, as are the edges. UTC days come from day buckets only
 * for day buckets in UTC itself. A filter the rollup cannot answer (see
 * sourceFor) reads the raw rows of the whole range.
 */
export function fromUsageBuckets(
  sql: Sql,
  range: DateRange,
  unit: BucketUnit,
  grouping: Dimension | null,
  select: Fragment,
  rest: Fragment,
  terms: FilterTerm[] = [],
  { noOddHours = false, onlyKeys, onlyKeysIn }: BucketSourceOptions = {},
): Fragment {
  const zone = range.timeZone;
  const utcDays = unit === "day" && zone === "UTC";
  const key = (x: Fragment) => bucketKeyOf(sql, unit, zone, x);
  const group = grouping ? groupColumn(sql, grouping) : undefined;
  const rollupGroup = group ? sql`${group.rollup},` : sql``;
  const rawGroup = group ? sql`${group.raw},` : sql``;
  const ofKeys = !grouping ? sql`` : onlyKeys ? rawRowsOfAny(sql, grouping, onlyKeys) : onlyKeysIn ? rawRowsIn(sql, grouping, onlyKeysIn) : sql``;
  const matching = sql`${rawRowsMatching(sql, terms)} ${ofKeys}`;
  const source = sourceFor(grouping, terms);
  if (source.kind === "raw") {
    return sql`
      WITH ${rangePlanCte(sql, range)}
      SELECT ${select}
      FROM (
        SELECT k.k_local, k.k_off, ${rawGroup} ${rawSummed(sql)}
        FROM (${rawRange(sql, range, sql`*`, matching)}) AS u
        CROSS JOIN LATERAL (${key(sql`u.created_at`)}) AS k
      ) AS usage_buckets
      ${rest}`;
  }
  const rollupOfKeys = !grouping ? sql`` : onlyKeys ? rollupRowsOfAny(sql, onlyKeys) : onlyKeysIn ? rollupRowsIn(sql, onlyKeysIn) : sql``;
  const where = sql`${source.term ? rollupRowsOf(sql, source.term) : sql``} ${rollupOfKeys}`;
  // A fragment of its own: postgres.js reads sql(list) by the last keyword before it, and a comment's " in " would make it a value list.
  const summedColumns = sql`${sql(SUMMED)}`;
  // A cut hour whose offset holds throughout and is whole half hours (or else whole five minutes):
  // its one local boundary (split_at) falls on a half-hour (five-minute) mark, so each of its rows of
  // that grain lies wholly in one bucket: the hour's first bucket before split_at, its last from there
  // (no list of buckets to generate and join, no time arithmetic per row). Half-hour rows are two per
  // key and hour, where five-minute rows are twelve.
  // The rollup keeps no half hours per user (drizzle/0009: a user's would be about as many as their
  // five-minute rows), so a user-grouped or user-filtered read takes a cut hour's five-minute rows.
  const halfHours = source.dimension !== "user";
  // Whether a cut hour whose offset holds is read from its half-hour rows: its offset is whole half hours.
  const onHalfHours = halfHours ? sql`extract(epoch FROM offset_at_start)::int % 1800 = 0` : sql`false`;
  const cutHourRows = (grain: CutGrain) => sql`
      SELECT CASE WHEN r.bucket < hours.split_at THEN hours.k_local ELSE hours.last_k_local END, hours.k_off,
        ${rollupGroup} ${summedColumns}
      ${unit === "hour" ? cutHoursInOneScan(sql, grain, source.dimension, where) : cutHoursOneByOne(sql, grain, source.dimension, where)}`;
  const daySpan = utcDays
    ? sql`UNION ALL
      SELECT bucket AT TIME ZONE 'UTC', 0, ${rollupGroup} ${sql(SUMMED)} FROM llm_tracker_usage_rollup
      WHERE grain = 'day' AND dimension = ${source.dimension} AND bucket >= ${planned(sql, "d_lo")} AND bucket < ${planned(sql, "d_hi")} ${where}`
    : sql``;
  return sql`
    WITH ${rangePlanCte(sql, range, { days: utcDays, bounded: true })},
    hours AS MATERIALIZED (
      SELECT b, date_trunc(${unit}, local_start) AS k_local, ${unit === "hour" ? sql`extract(epoch FROM offset_at_start)::int` : sql`0`} AS k_off,
        -- Whether the hour lies in one bucket: its first and last microsecond have the same key (bucketKeyOf's).
        date_trunc(${unit}, local_start) = date_trunc(${unit}, local_last) ${unit === "hour" ? sql`AND offset_at_start = offset_at_last` : sql``} AS whole,
        -- The zone's offset through the hour, when it does not change within it (else null).
        CASE WHEN offset_at_start = offset_at_last THEN offset_at_start END AS offset_through,
        -- Which rollup grain a cut hour is read from while its offset holds (see cutHourRows): the local
        -- boundary then falls on a half-hour mark when the offset is whole half hours (Asia/Kolkata,
        -- Australia/Adelaide, America/St_Johns), read from the half-hour rows unless the dimension is
        -- user (onHalfHours), else on a five-minute mark when it is whole five minutes (Asia/Kathmandu at
        -- +5:45; every zone since the 1970s is one or the other), read from the five-minute rows; neither
        -- for the odd historical offset in seconds, whose five minutes the fives CTE lists. Booleans, not
        -- one text column: the planner guesses a boolean true for half the hours but a text equal to a
        -- value for one in 200, and for so few hours it would scan them once per rollup row instead of
        -- hashing them.
        offset_at_start = offset_at_last AND ${onHalfHours} AS from_half_hours,
        offset_at_start = offset_at_last AND NOT (${onHalfHours})
          AND extract(epoch FROM offset_at_start)::int % 300 = 0 AS from_five_minutes,
        -- For an hour cut at one boundary while its offset holds: the later bucket's k_local, and the
        -- instant it starts (local time runs with UTC there; under an hour, so no day arithmetic).
        date_trunc(${unit}, local_last) AS last_k_local,
        b + (date_trunc(${unit}, local_last) - local_start) AS split_at
      FROM (
        SELECT generate_series(h_lo, d_lo - interval '1 hour', interval '1 hour') AS b FROM plan
        UNION ALL
        SELECT generate_series(d_hi, h_hi - interval '1 hour', interval '1 hour') FROM plan
      ) AS planned_hours
      -- Two time zone lookups per hour, the rest arithmetic.
      CROSS JOIN LATERAL (${hourClockOf(sql, zone, sql`b`)}) AS clock
    ),
    fives AS MATERIALIZED (
      SELECT f, first_key.k_local, first_key.k_off,
        first_key.k_local = last_key.k_local AND first_key.k_off = last_key.k_off AS whole
      FROM (
        SELECT generate_series(m_lo, h_lo - interval '5 minutes', interval '5 minutes') AS f FROM plan
        UNION ALL
        SELECT generate_series(h_hi, m_hi - interval '5 minutes', interval '5 minutes') FROM plan
        ${noOddHours ? sql`` : sql`UNION ALL
        SELECT generate_series(b, b + interval '55 minutes', interval '5 minutes') FROM hours WHERE NOT whole AND offset_through IS NULL`}
      ) AS planned_fives
      CROSS JOIN LATERAL (${key(sql`f`)}) AS first_key
      CROSS JOIN LATERAL (${key(sql`f + interval '4:59.999999'`)}) AS last_key
      ${noOddHours ? sql`` : sql`      UNION ALL
      -- A cut hour whose offset holds throughout but is off whole five minutes (historical offsets in
      -- seconds): local time is UTC plus that offset, the same keys as bucketKeyOf gives, without a
      -- time zone lookup per five minutes.
      SELECT f, date_trunc(${unit}, first_local), ${unit === "hour" ? sql`extract(epoch FROM offset_through)::int` : sql`0`},
        date_trunc(${unit}, first_local) = date_trunc(${unit}, first_local + interval '4:59.999999')
      FROM hours
      CROSS JOIN LATERAL generate_series(b, b + interval '55 minutes', interval '5 minutes') AS f
      CROSS JOIN LATERAL (SELECT (f AT TIME ZONE 'UTC') + offset_through AS first_local) AS local_clock
      WHERE NOT whole AND offset_through IS NOT NULL AND NOT from_half_hours AND NOT from_five_minutes`}
    )
    SELECT ${select}
    FROM (
      SELECT hours.k_local, hours.k_off, ${rollupGroup} ${sql(SUMMED)}
      FROM (${rollupSpans(sql, source.dimension, sql`bucket, key_is_null, key, ${sql(SUMMED)}`, { hoursOnly: true, where })}) AS r
      JOIN hours ON hours.b = r.bucket
      WHERE hours.whole
      ${daySpan}
      UNION ALL
      SELECT fives.k_local, fives.k_off, ${rollupGroup} ${summedColumns}
      FROM fives CROSS JOIN LATERAL (
        -- One index lookup per listed bucket: they are few now (the two edges, hours a DST switch
        -- crosses), and a range scan from the first to the last would span the whole range's rows.
        SELECT * FROM llm_tracker_usage_rollup
        WHERE grain = 'five_minutes' AND dimension = ${source.dimension} AND bucket = fives.f ${where} OFFSET 0
      ) AS r
      WHERE fives.whole
      UNION ALL
      ${halfHours ? sql`${cutHourRows("half_hour")} UNION ALL` : sql``}
      ${cutHourRows("five_minutes")}
      ${noOddHours ? sql`` : sql`      UNION ALL
      SELECT k.k_local, k.k_off, ${rawGroup} ${rawSummed(sql)}
      FROM fives CROSS JOIN LATERAL (
        -- OFFSET 0 keeps this a per-bucket index range scan; as a plain join the
        -- planner, blind to how few buckets are cut, may scan the whole table.
        SELECT * FROM llm_tracker_usage
        WHERE created_at >= fives.f AND created_at < fives.f + interval '5 minutes' ${matching}
          ${withinRange(sql, range)} OFFSET 0
      ) AS u
      CROSS JOIN LATERAL (${key(sql`u.created_at`)}) AS k
      WHERE NOT fives.whole`}
      UNION ALL
      SELECT k.k_local, k.k_off, ${rawGroup} ${rawSummed(sql)}
      FROM (${rawEdges(sql, range, sql`*`, matching)}) AS u
      CROSS JOIN LATERAL (${key(sql`u.created_at`)}) AS k
    ) AS usage_buckets
    ${rest}`;
}

/** The finer grains a cut hour is read from when its offset holds through it. */
type CutGrain = Extract<Grain, "half_hour" | "five_minutes">;

/** The `hours` column that is true for the cut hours read from `grain`. */
function readFrom(sql: Sql, grain: CutGrain): Fragment {
  return grain === "half_hour" ? sql`from_half_hours` : sql`from_five_minutes`;
}

/**
 * The `grain` rollup rows of the cut hours read from that grain (readFrom), with those
 * hours (as `r` and `hours`), for hourly buckets: in a half-hour zone every hour is cut, so one
 * index range scan from the first such hour to the end of the last, hashed against them, reads
 * only rows it needs.
 */
function cutHoursInOneScan(sql: Sql, grain: CutGrain, dimension: RollupDimension, where: Fragment): Fragment {
  return sql`
      FROM llm_tracker_usage_rollup AS r
      -- date_bin, not date_trunc: the UTC hour the row falls in, whatever the session's time zone.
      JOIN hours ON hours.b = date_bin('1 hour', r.bucket, timestamptz '2000-01-01T00:00:00Z')
        AND NOT hours.whole AND hours.${readFrom(sql, grain)}
      WHERE r.grain = ${grain} AND r.dimension = ${dimension} ${where}
        AND r.bucket >= (SELECT min(b) FROM hours WHERE NOT whole AND ${readFrom(sql, grain)})
        AND r.bucket < (SELECT max(b) FROM hours WHERE NOT whole AND ${readFrom(sql, grain)}) + interval '1 hour'`;
}

/**
 * The same rows for day buckets: a day boundary cuts one hour a day, so one index range scan per
 * cut hour (a scan from the first to the last would read every row of the range at that grain:
 * 167,000 five-minute rows by model over 30 days at 10M, for the 7,200 it needs).
 */
function cutHoursOneByOne(sql: Sql, grain: CutGrain, dimension: RollupDimension, where: Fragment): Fragment {
  return sql`
      FROM hours CROSS JOIN LATERAL (
        SELECT * FROM llm_tracker_usage_rollup
        WHERE grain = ${grain} AND dimension = ${dimension} ${where}
          AND bucket >= hours.b AND bucket < hours.b + interval '1 hour' OFFSET 0
      ) AS r
      WHERE NOT hours.whole AND hours.${readFrom(sql, grain)}`;
}

/**
 * The top `limit` keys of `dimension` (user or node) by total_tokens over
 * `range`, with their exact totals (summedTotalsColumns) and `bound`, without
 * summing every key's rows. One row per key found, best first (ties by key in
 * byte order, null last), as `column`.
 *
 * The range is covered by UTC day buckets: the whole days inside it, and the
 * day holding each partial end (a superset of the hours, five minutes and raw
 * rows the range takes from that day); or, when it holds no whole day, by its
 * whole hours and the hour holding each partial end. A bucket's head is its
 * `depth` keys with the most tokens, read in index order from its compacted
 * rows (one per key), plus every key with partial sums appended since
 * (compacted = false); all of them are candidates. Tokens are never negative,
 * so a key outside a covering bucket's head has at most the head's last value
 * in the part of that bucket the range takes, and a key that is no candidate
 * at all has at most `bound` = Σ over covering buckets of that last value (0
 * for a bucket whose head holds all its keys).
 *
 * Candidates are summed exactly (over the planned spans and edges) only while
 * they can still rank: each has a lower bound (its rows read in whole
 * buckets) and an upper bound (`bound`, its own rows in place of the last
 * value where it is in the head); one whose upper bound is below the
 * `limit`-th lower bound is dropped, the `limit` with the highest upper bounds
 * are summed first, and of the rest only those whose upper bound reaches the
 * `limit`-th of those totals. A dropped key has fewer tokens than `limit`
 * others, so the top `limit` returned are the candidates' own. The answer is
 * proven when the `limit`-th has more than `bound` tokens: then no other key
 * can rank above it or tie with it. The caller checks this and otherwise sums
 * every key (traffic concentrated on some keys, as real traffic is, proves it
 * at once; evenly spread may not).
 */
export function topKeys(sql: Sql, range: DateRange, dimension: "user" | "node", column: string, limit: number, depth: number): Fragment {
  const rawKey = dimension === "user" ? sql`user_id` : sql`(metadata->>'node_name')`;
  return sql`
    WITH ${rangePlanCte(sql, range, { bounded: true })},
    covering AS MATERIALIZED (
      -- With whole days in the range: those (whole) and the day holding each partial end. Without (a range
      -- like the last 24 hours): its whole hours and the hour holding each partial end, so that a key's
      -- head rows bound it from below too (a lower bound counts only whole buckets).
      SELECT 'day' AS grain, generate_series(d_lo, d_hi - interval '24 hours', interval '24 hours') AS bucket, true AS whole FROM plan
      UNION
      SELECT 'day', date_trunc('day', lo, 'UTC'), false FROM plan WHERE lo < d_lo AND d_lo < d_hi
      UNION
      SELECT 'day', date_trunc('day', hi - interval '1 microsecond', 'UTC'), false FROM plan WHERE d_hi < hi AND d_lo < d_hi
      UNION
      SELECT 'hour', generate_series(h_lo, h_hi - interval '1 hour', interval '1 hour'), true FROM plan WHERE d_lo = d_hi
      UNION
      SELECT 'hour', date_trunc('hour', lo, 'UTC'), false FROM plan WHERE lo < h_lo AND d_lo = d_hi
      UNION
      SELECT 'hour', date_trunc('hour', hi - interval '1 microsecond', 'UTC'), false FROM plan WHERE h_hi < hi AND d_lo = d_hi
    ),
    heads AS MATERIALIZED (
      SELECT covering.grain, covering.bucket, covering.whole, head.key_is_null, head.key, head.total_tokens
      FROM covering CROSS JOIN LATERAL (
        SELECT key_is_null, key, total_tokens FROM llm_tracker_usage_rollup
        WHERE grain = covering.grain AND dimension = ${dimension} AND bucket = covering.bucket AND compacted
        ORDER BY total_tokens DESC NULLS LAST
        LIMIT ${depth}::int
      ) AS head
    ),
    edges AS MATERIALIZED (
      SELECT grouped IS NULL AS key_is_null, coalesce(grouped, '') AS key, sum(calls) AS calls,
        sum(successful_calls) AS successful_calls, sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
        sum(total_tokens) AS total_tokens, sum(cost_usd) AS cost_usd, sum(unpriced_calls) AS unpriced_calls,
        sum(latency_ms_sum) AS latency_ms_sum, sum(latency_calls) AS latency_calls, sum(ttft_ms_sum) AS ttft_ms_sum,
        sum(ttft_calls) AS ttft_calls
      FROM (${rawEdges(sql, range, sql`${rawKey} AS grouped, ${rawSummed(sql)}`)}) AS edge_rows
      GROUP BY grouped
    ),
    pending AS MATERIALIZED (
      SELECT covering.grain, covering.bucket, covering.whole, pending.key_is_null, pending.key, pending.total_tokens
      FROM covering CROSS JOIN LATERAL (
        SELECT key_is_null, key, total_tokens FROM llm_tracker_usage_rollup
        WHERE grain = covering.grain AND dimension = ${dimension} AND bucket = covering.bucket AND NOT compacted
      ) AS pending
    ),
    last_values AS MATERIALIZED (
      -- What a key outside a bucket's head can have there: its last value, or 0 when the head holds every key.
      SELECT grain, bucket, CASE WHEN count(*) = ${depth}::int THEN greatest(min(total_tokens), 0) ELSE 0 END AS last_value
      FROM heads GROUP BY grain, bucket
    ),
    bound AS MATERIALIZED (
      SELECT coalesce(sum(last_value), 0)::int8 AS bound FROM last_values
    ),
    candidates AS MATERIALIZED (
      -- Every key in a head or with pending rows. A bucket holds at most one compacted row per key
      -- (drizzle/0008), so its head row plus its pending rows are all of its rows there.
      -- low: its known rows in the buckets the range takes whole (its other rows are not negative);
      -- high: in each covering bucket its known rows, plus the bucket's last value where it is not in the head
      -- (bound, less the last value of each bucket whose head holds it).
      SELECT key_is_null, key,
        coalesce(sum(tokens) FILTER (WHERE whole), 0) AS low,
        (SELECT bound FROM bound) + sum(tokens - replaced) AS high
      FROM (
        SELECT whole, key_is_null, key, total_tokens AS tokens, last_value AS replaced FROM heads JOIN last_values USING (grain, bucket)
        UNION ALL
        SELECT whole, key_is_null, key, total_tokens, 0 FROM pending
      ) AS known_rows
      GROUP BY key_is_null, key
    ),
    threshold AS MATERIALIZED (
      -- At least limit candidates have this many tokens or more: a candidate that cannot reach it is not in the answer.
      SELECT low FROM candidates ORDER BY low DESC OFFSET ${limit - 1}::int LIMIT 1
    ),
    contenders AS MATERIALIZED (
      SELECT key_is_null, key, high FROM candidates WHERE high >= ALL (SELECT low FROM threshold)
    ),
    seeds AS MATERIALIZED (
      -- The limit contenders that may have the most: summed first, so their limit-th total prunes the rest.
      SELECT key_is_null, key FROM contenders ORDER BY high DESC LIMIT ${limit}::int
    ),
    seeded AS MATERIALIZED (${exactTotals(sql, dimension, "seeds")}),
    reach AS MATERIALIZED (
      SELECT total_tokens FROM seeded ORDER BY total_tokens DESC OFFSET ${limit - 1}::int LIMIT 1
    ),
    others AS MATERIALIZED (
      SELECT key_is_null, key FROM contenders AS c
      WHERE high >= ALL (SELECT total_tokens FROM reach)
        AND NOT EXISTS (SELECT FROM seeds WHERE seeds.key_is_null = c.key_is_null AND seeds.key = c.key)
    )
    SELECT CASE WHEN key_is_null THEN NULL ELSE key END AS ${sql(column)}, total_calls, total_prompt_tokens,
      total_completion_tokens, total_tokens, total_cost_usd, avg_latency_ms, avg_time_to_first_token_ms,
      (SELECT bound FROM bound) AS bound
    FROM (
      SELECT * FROM seeded
      UNION ALL
      ${exactTotals(sql, dimension, "others")}
    ) AS totals
    ORDER BY total_tokens DESC, (CASE WHEN key_is_null THEN NULL ELSE key END) COLLATE "C" ASC NULLS LAST
    LIMIT ${limit}::int`;
}

/** Each key of the CTE `keys` (key_is_null, key) with its summedTotalsColumns over the plan's spans and the CTE `edges`; keys without calls left out. */
function exactTotals(sql: Sql, dimension: "user" | "node", keys: "seeds" | "others"): Fragment {
  return sql`
    SELECT key_is_null, key, ${summedTotalsColumns(sql)}
    FROM (
      SELECT k.key_is_null, k.key, ${sql(SUMMED)}
      FROM ${sql(keys)} AS k
      CROSS JOIN LATERAL (
        ${rollupSpans(sql, dimension, sql`${sql(SUMMED)}`, { where: sql`AND key_is_null = k.key_is_null AND key = k.key` })}
      ) AS spans
      UNION ALL
      -- The edges by a hash join: a lookup per key would scan them all each time.
      SELECT key_is_null, key, ${sql(SUMMED)} FROM edges JOIN ${sql(keys)} USING (key_is_null, key)
    ) AS parts
    GROUP BY key_is_null, key
    HAVING sum(calls) > 0`;
}

/** Calls, token sums, cost and average latencies over usage_parts, as toTokenTotals() reads them. */
export function summedTotalsColumns(sql: Sql): Fragment {
  return sql`
    coalesce(sum(calls), 0)::int8 AS total_calls,
    coalesce(sum(prompt_tokens), 0)::int8 AS total_prompt_tokens,
    coalesce(sum(completion_tokens), 0)::int8 AS total_completion_tokens,
    coalesce(sum(total_tokens), 0)::int8 AS total_tokens,
    ${costColumn(sql)},
    ${averageColumn(sql, "latency_ms_sum", "latency_calls", "avg_latency_ms")},
    ${averageColumn(sql, "ttft_ms_sum", "ttft_calls", "avg_time_to_first_token_ms")}`;
}
