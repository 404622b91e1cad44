// Calls, tokens and cost per hour or day of a range, in the caller's time zone,
// every bucket present (empty ones as zeros), optionally one series per model,
// user or node: what a chart over time needs.
import type { PendingQuery, Row, Sql } from "postgres";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import type { DateInput, DateRange } from "../query/date-range.js";
import { parseDateRange } from "../query/date-range.js";
import { statsSql } from "../query/query-connection.js";
import { boundInstant, runStatsQuery, toNumber } from "../query/query-sql.js";
import { parseStatsFilter, type FilterTerm } from "./stats-filter.js";
import { parseLimit } from "./stats-limit.js";
import { rankedStats } from "./ranked-stats.js";
import { OVER_TIME_KEY_FIELD, type OverTimeGroupBy, type OverTimeKeyField, type OverTimeOptions, type OverTimeStats } from "./stats-options.js";
import { averageColumn, costColumn } from "./stats-sql.js";
import { bucketKeysQuery, bucketLabelOf, type BucketUnit } from "./time-buckets.js";
import { fromUsageBuckets, fromUsageParts } from "./usage-sources.js";

/** The most buckets one call returns per series: 41 days of hours, 2.7 years of days. */
export const MAX_BUCKETS = 1_000;
/** The most entries one call returns (buckets × series). */
export const MAX_ENTRIES = 100_000;
/** Up to this limit the series are ranked first and their keys listed in the statement (one parameter each). */
const MAX_LISTED_SERIES = 1_000;

const UNITS: readonly BucketUnit[] = ["hour", "day"];
const GROUPS: readonly OverTimeGroupBy[] = ["model", "user", "node"];

type Fragment = PendingQuery<Row[]>;

interface Bucket {
  bucket_start: string;
  at: number;
}

type Figures = Omit<OverTimeStats, "bucket_start" | "model" | "user_id" | "node_name">;

const ZEROS: Figures = {
  total_calls: 0,
  successful_calls: 0,
  failed_calls: 0,
  total_prompt_tokens: 0,
  total_completion_tokens: 0,
  total_tokens: 0,
  total_cost_usd: 0,
  unpriced_calls: 0,
  avg_latency_ms: 0,
  avg_time_to_first_token_ms: 0,
};

/**
 * One entry per bucket of [startDate, endDate), ascending; with `groupBy`, one
 * per bucket and key, the keys of a bucket in the order of their totals over
 * the range (`total_tokens` descending, ties by key in byte order, null last),
 * every key in every bucket. Both dates are required, and a range may hold at
 * most MAX_BUCKETS buckets and MAX_ENTRIES entries (InvalidInputError beyond).
 */
export async function getStatsOverTime(startDate: DateInput, endDate: DateInput, options: OverTimeOptions): Promise<OverTimeStats[]> {
  if (startDate === undefined || startDate === null) throw new InvalidInputError("startDate", "required: getStatsOverTime needs both ends of its range");
  if (endDate === undefined || endDate === null) throw new InvalidInputError("endDate", "required: getStatsOverTime needs both ends of its range");
  const range = parseDateRange(startDate, endDate, options?.timeZone);
  const { bucket: unit, groupBy } = options ?? {};
  if (!UNITS.includes(unit)) throw new InvalidInputError("options.bucket", `expected "hour" or "day", got ${describeOption(unit)}`);
  if (groupBy !== undefined && !GROUPS.includes(groupBy)) {
    throw new InvalidInputError("options.groupBy", `expected "model", "user" or "node", got ${describeOption(groupBy)}`);
  }
  const limit = parseLimit("options.limit", options.limit);
  if (limit !== undefined && groupBy === undefined) throw new InvalidInputError("options.limit", "applies to the series of options.groupBy, which is not set");

  const terms = parseStatsFilter(options.filter);
  const field = groupBy ? OVER_TIME_KEY_FIELD[groupBy] : undefined;
  const sql = statsSql(options.db);
  // With a limit, the series are ranked first (as getStatsBy* rank their rows), so only their cells are read:
  // models in the statement itself (a CTE: they are few), users and nodes by the top-N search before it;
  // past MAX_LISTED_SERIES every key's cells are ranked in the statement and the rest dropped there.
  const ranksFirst = groupBy !== undefined && limit !== undefined && limit <= MAX_LISTED_SERIES;
  const ranksModelsFirst = ranksFirst && groupBy === "model";
  const onlyKeys = ranksFirst && groupBy !== "model" ? await topSeries(sql, range, groupBy, limit!, terms) : undefined;
  if (onlyKeys?.length === 0) return [];
  const query = (noOddHours: boolean) =>
    runStatsQuery(sql, range, async (q) => await overTimeQuery(q, { range, unit, groupBy, field, terms, limit, onlyKeys, ranksModelsFirst, noOddHours }));
  let [row] = await query(true);
  // A range with odd hours (a half-hour zone's DST switch, a historical offset in seconds) may cut
  // five-minute buckets and hours anywhere: the first statement summed nothing, this one reads them.
  if (toNumber(row?.odd_hours) === 1 && toNumber(row?.listed_count) <= MAX_BUCKETS) [row] = await query(false);
  const listedCount = toNumber(row?.listed_count);
  if (listedCount > MAX_BUCKETS) {
    const approximate = Math.round(toNumber(row!.range_seconds) / (unit === "hour" ? 3600 : 86400));
    throw new InvalidInputError(
      "options.bucket",
      `the range holds about ${approximate.toLocaleString("en-US")} ${unit} buckets, more than the ${MAX_BUCKETS.toLocaleString("en-US")} allowed; ` +
        `${unit === "hour" ? 'use bucket "day" or ' : ""}a shorter range`,
    );
  }
  // A bucket's key as the JSON names it: k_local in epoch seconds, and k_off.
  const labelOf = new Map<string, string>();
  const listed = new Map<string, Bucket>();
  for (const [name, at, kLocal, kOff] of parseJsonList<[string, number, number, number]>(row?.buckets)) {
    labelOf.set(`${kLocal} ${kOff}`, name);
    if (!listed.has(name)) listed.set(name, { bucket_start: name, at });
  }
  const cells = parseJsonList<Cell>(row?.cells);
  const seriesKeys = onlyKeys ?? (ranksModelsFirst ? parseJsonList<string>(row?.series_keys) : undefined);
  return fillSeries([...listed.values()], cells, (cell) => labelOf.get(`${cell[0]} ${cell[1]}`)!, field, seriesKeys);
}

/** A cell as the statement sends it: its bucket's key (k_local in epoch seconds, k_off), its series' key, then CELL_COLUMNS. */
type Cell = [number, number, string | null, ...unknown[]];

/** A cell's columns after its bucket's key and its series' key, in the order the statement lists them. */
const CELL_COLUMNS = [
  "series", "total_calls", "successful_calls", "total_prompt_tokens", "total_completion_tokens", "total_tokens",
  "total_cost_usd", "unpriced_calls", "avg_latency_ms", "avg_time_to_first_token_ms",
] as const;

/** Each of CELL_COLUMNS' index in a cell (after the bucket's key and the series' key). */
const COLUMN_INDEX = Object.fromEntries(CELL_COLUMNS.map((name, i) => [name, i + 3])) as Record<(typeof CELL_COLUMNS)[number], number>;

/** A json_agg answer (null for no rows), sent as text: one value to read, not one per row and column. */
function parseJsonList<T>(text: unknown): T[] {
  return typeof text === "string" ? (JSON.parse(text) as T[]) : [];
}

interface OverTimeQuery {
  range: DateRange;
  unit: BucketUnit;
  groupBy: OverTimeGroupBy | undefined;
  field: OverTimeKeyField | undefined;
  terms: FilterTerm[];
  limit: number | undefined;
  /** The series to read (the top N keys, ranked before), when a limit keeps only some. */
  onlyKeys: readonly (string | null)[] | undefined;
  /** Rank the models over the range first in the statement (a CTE) and read only the top `limit`'s cells. */
  ranksModelsFirst: boolean;
  /** Sum the cells only when the range has no odd hours, leaving out the branches only odd hours need (fromUsageBuckets' noOddHours). */
  noOddHours: boolean;
}

/**
 * One statement: the bucket list, and the cells only when the list is within
 * the cap (a one-time filter, so a refused range sums nothing) and, with
 * `noOddHours`, the range has no odd hours. Answers one row: the
 * list's count, span and odd hours, every bucket (labelled once, with its
 * key) and the non-empty cells with their bucket's key, as JSON. Every cell's
 * bucket is listed: without odd hours the list is exact (bucketKeysQuery);
 * with them, should a zone's odd history hide a bucket from the list, the
 * union with the cells' keys still gives its rows one.
 */
function overTimeQuery(q: Sql, { range, unit, groupBy, field, terms, limit, onlyKeys, ranksModelsFirst, noOddHours }: OverTimeQuery): Fragment {
  const zone = range.timeZone;
  const keyColumn = field ? q`${q(field)},` : q``;
  const cellsQuery = fromUsageBuckets(
    q,
    range,
    unit,
    groupBy ?? null,
    q`k_local, k_off, ${keyColumn}
      sum(calls)::int8 AS total_calls,
      sum(successful_calls)::int8 AS successful_calls,
      sum(prompt_tokens)::int8 AS total_prompt_tokens,
      sum(completion_tokens)::int8 AS total_completion_tokens,
      sum(total_tokens)::int8 AS total_tokens,
      ${costColumn(q)},
      sum(unpriced_calls)::int8 AS unpriced_calls,
      ${averageColumn(q, "latency_ms_sum", "latency_calls", "avg_latency_ms")},
      ${averageColumn(q, "ttft_ms_sum", "ttft_calls", "avg_time_to_first_token_ms")}`,
    // Buckets emptied by deletes stay in the rollup with zero calls: such a cell had no rows.
    q`GROUP BY k_local, k_off ${field ? q`, ${q(field)}` : q``} HAVING sum(calls) > 0`,
    terms,
    { noOddHours, onlyKeys, onlyKeysIn: ranksModelsFirst ? q`SELECT model FROM top_models` : undefined },
  );
  // The top models by tokens over the range, ties by name in byte order (getStatsByModel's order).
  const topModels = ranksModelsFirst
    ? q`top_models AS MATERIALIZED (
      ${fromUsageParts(q, range, "model", q`model, sum(total_tokens) AS tokens`, q`GROUP BY model HAVING sum(calls) > 0 ORDER BY sum(total_tokens) DESC, model COLLATE "C" ASC LIMIT ${limit!}::int8`, terms)}
    ),`
    : q``;
  // A series is ranked by its key's total over the whole range, as getStatsByUser ranks users; the
  // series of a limit were ranked before (fillSeries places them by their keys: top_models' are sent in order).
  const ranked = field && !onlyKeys && !ranksModelsFirst;
  const keyTokens = ranked ? q`sum(total_tokens) OVER (PARTITION BY ${q(field)})` : q`0`;
  const series = ranked ? q`dense_rank() OVER (ORDER BY key_tokens DESC, ${q(field)} COLLATE "C" ASC NULLS LAST)` : q`1`;
  const sumsOnlyWithoutOddHours = noOddHours ? q`AND NOT (SELECT bool_or(odd_hours) FROM listed)` : q``;
  return q`
    WITH ${topModels} listed AS MATERIALIZED (
      ${bucketKeysQuery(q, unit, zone, boundInstant(q, range.from!, zone), boundInstant(q, range.to!, zone), MAX_BUCKETS)}
    ),
    cells AS MATERIALIZED (
      SELECT * FROM (
        SELECT *, ${series} AS series
        FROM (SELECT *, ${keyTokens} AS key_tokens FROM (${cellsQuery}) AS cells) AS with_totals
      ) AS ranked
      WHERE (SELECT count(*) FROM listed) <= ${MAX_BUCKETS}::int8 ${sumsOnlyWithoutOddHours}
        ${ranked && limit !== undefined ? q`AND ranked.series <= ${limit}::int8` : q``}
    ),
    -- Labelled once per bucket; a cell names its bucket by key (epoch seconds of k_local, and k_off), not label.
    buckets AS MATERIALIZED (
      SELECT keys.k_local, keys.k_off, label.bucket_start, extract(epoch FROM label.bucket_at)::float8 AS at
      FROM (${noOddHours ? q`SELECT k_local, k_off FROM listed` : q`SELECT k_local, k_off FROM listed UNION SELECT k_local, k_off FROM cells`}) AS keys
      CROSS JOIN LATERAL (${bucketLabelOf(q, unit, zone)}) AS label
    )
    -- One row: the list's facts, then the buckets and the cells each as one JSON text (postgres.js
    -- would otherwise parse a value per row and column: ~10 ms for a week of hours by 7 models).
    SELECT (SELECT count(*) FROM listed) AS listed_count, (SELECT max(range_seconds) FROM listed) AS range_seconds,
      (SELECT bool_or(odd_hours) FROM listed)::int AS odd_hours,
      (SELECT json_agg(json_build_array(bucket_start, at, ${bucketKey(q)}, k_off))::text FROM buckets) AS buckets,
      (SELECT json_agg(json_build_array(${bucketKey(q)}, k_off, ${field ? q`${q(field)}` : q`NULL`}, ${q.unsafe(CELL_COLUMNS.join(", "))}))::text
        FROM cells) AS cells
      ${ranksModelsFirst ? q`, (SELECT json_agg(model ORDER BY tokens DESC, model COLLATE "C" ASC)::text FROM top_models) AS series_keys` : q``}`;
}

/** A bucket's k_local as a number (epoch seconds of the wall-clock time read as UTC): with k_off, the bucket's key in the JSON. */
function bucketKey(q: Sql): Fragment {
  return q`date_part('epoch', k_local)`;
}

/** The keys of the top `limit` users or nodes by total_tokens over the range, in rank order (as getStatsByUser ranks them). */
async function topSeries(sql: Sql, range: DateRange, groupBy: "user" | "node", limit: number, terms: FilterTerm[]): Promise<(string | null)[]> {
  const field = OVER_TIME_KEY_FIELD[groupBy];
  const rows = await rankedStats(sql, range, groupBy, field, limit, terms);
  return rows.map((row) => row[field] as string | null);
}

/**
 * Lays the non-empty cells out on every bucket (each cell's among them) × every
 * series, zeros where a series had no calls; refuses more than MAX_ENTRIES entries.
 */
function fillSeries(
  listed: Bucket[],
  cells: readonly Cell[],
  labelOf: (cell: Cell) => string,
  field: OverTimeKeyField | undefined,
  seriesKeys: readonly (string | null)[] | undefined,
): OverTimeStats[] {
  const ordered = [...listed].sort((a, b) => a.at - b.at);
  const rankOf = seriesRanks(cells, field, seriesKeys);
  const keys: unknown[] = [];
  for (const [key, rank] of rankOf) keys[rank - 1] = key;
  const seriesCount = field ? keys.length : 1;
  if (seriesCount * ordered.length > MAX_ENTRIES) {
    throw new InvalidInputError(
      "options.limit",
      `${seriesCount.toLocaleString("en-US")} series × ${ordered.length.toLocaleString("en-US")} buckets is more than the ` +
        `${MAX_ENTRIES.toLocaleString("en-US")} entries allowed; pass options.limit (the top N series by total_tokens), larger buckets or a shorter range`,
    );
  }
  // Each cell in its place on the grid of buckets × series (a bucket's series side by side, in rank order).
  const indexOf = new Map(ordered.map((bucket, i) => [bucket.bucket_start, i]));
  const grid: (Cell | undefined)[] = new Array(ordered.length * seriesCount);
  for (const cell of cells) {
    const rank = rankOf.get(field ? cell[2] : null);
    const index = indexOf.get(labelOf(cell));
    if (rank !== undefined && index !== undefined) grid[index * seriesCount + rank - 1] = cell;
  }
  return grid.length === 0 ? [] : Array.from(grid, (cell, i) => {
    const entry: Record<string, unknown> = { bucket_start: ordered[Math.floor(i / seriesCount)]!.bucket_start };
    if (field) entry[field] = keys[i % seriesCount];
    return Object.assign(entry, cell ? toFigures(cell) : ZEROS) as unknown as OverTimeStats;
  });
}

/**
 * Each series' key and its rank (from 1): the statement's ranks, or, for series ranked first
 * (`seriesKeys`, in rank order), their order among the keys the cells have (one that lost all
 * its calls since it was ranked is left out).
 */
function seriesRanks(cells: readonly Cell[], field: OverTimeKeyField | undefined, seriesKeys: readonly (string | null)[] | undefined): Map<unknown, number> {
  const ranks = new Map<unknown, number>();
  if (!seriesKeys || !field) {
    for (const cell of cells) ranks.set(field ? cell[2] : null, toNumber(cell[COLUMN_INDEX.series]));
    return ranks;
  }
  const present = new Set(cells.map((cell) => cell[2]));
  for (const key of seriesKeys) if (present.has(key)) ranks.set(key, ranks.size + 1);
  return ranks;
}

function toFigures(cell: Cell): Figures {
  const calls = toNumber(cell[COLUMN_INDEX.total_calls]);
  const successful = toNumber(cell[COLUMN_INDEX.successful_calls]);
  return {
    total_calls: calls,
    successful_calls: successful,
    failed_calls: calls - successful,
    total_prompt_tokens: toNumber(cell[COLUMN_INDEX.total_prompt_tokens]),
    total_completion_tokens: toNumber(cell[COLUMN_INDEX.total_completion_tokens]),
    total_tokens: toNumber(cell[COLUMN_INDEX.total_tokens]),
    total_cost_usd: toNumber(cell[COLUMN_INDEX.total_cost_usd]),
    unpriced_calls: toNumber(cell[COLUMN_INDEX.unpriced_calls]),
    avg_latency_ms: toNumber(cell[COLUMN_INDEX.avg_latency_ms]),
    avg_time_to_first_token_ms: toNumber(cell[COLUMN_INDEX.avg_time_to_first_token_ms]),
  };
}

function describeOption(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  return value === null ? "null" : typeof value;
}
