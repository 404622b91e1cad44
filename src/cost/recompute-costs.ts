// Re-prices the usage rows of a date range with the current price book, after
// a price change or once an unknown model has a price. Chunked by (created_at, id)
// in short transactions; the rollup follows each UPDATE through its trigger.
import type { Sql } from "postgres";
import { parseDateRange, type DateInput, type DateRange } from "../query/date-range.js";
import { primarySql } from "../query/query-connection.js";
import type { QueryOptions } from "../query/query-options.js";
import { inRange, runStatsQuery } from "../query/query-sql.js";
import { getPriceBook, type PriceBook } from "./price-book.js";
import { priceRow } from "./price-row.js";

export interface RecomputeCostsOptions extends QueryOptions {
  /** Prices to apply. Default: the configured price book (LLM_TRACKER_PRICES, overrides, Azure deployments). */
  priceBook?: PriceBook;
  /** Rows read, priced and updated per transaction. Default 1000. */
  chunkSize?: number;
}

export interface RecomputeCostsResult {
  /** Rows of the range priced with the current book. */
  rows_repriced: number;
  /** Of those, rows whose cost_usd or price_version changed (only these are written). */
  rows_changed: number;
  /** Rows of the range left without a price (their model is not in the book). */
  unpriced_calls: number;
  /** The version written to price_version. */
  price_version: string;
}

interface Cursor {
  createdAt: string;
  id: string;
}

/**
 * Re-prices every row created in [startDate, endDate) (same date rules as the
 * stats: date-only end days are included, `options.timeZone` places them).
 * Each chunk is one transaction that locks its rows, so a concurrent re-price
 * can not interleave; stats money (raw rows and rollup) is exact after each chunk.
 * Rows the worker writes meanwhile are priced with the worker's book.
 */
export async function recomputeCosts(startDate?: DateInput, endDate?: DateInput, options: RecomputeCostsOptions = {}): Promise<RecomputeCostsResult> {
  const range = parseDateRange(startDate, endDate, options.timeZone);
  const chunkSize = options.chunkSize ?? 1_000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError("recomputeCosts: options.chunkSize must be a positive integer");
  const book = options.priceBook ?? getPriceBook();
  // It writes: the primary (DATABASE_URL), never the stats replica.
  const sql = primarySql(options.db);
  const result: RecomputeCostsResult = { rows_repriced: 0, rows_changed: 0, unpriced_calls: 0, price_version: book.version };

  let cursor: Cursor | undefined;
  for (;;) {
    // One transaction per chunk: runStatsQuery runs the query in a transaction of its own.
    const chunk = await runStatsQuery(sql, range, (tx) => repriceChunk(tx, book, range, cursor, chunkSize));
    result.rows_repriced += chunk.rows;
    result.rows_changed += chunk.changed;
    result.unpriced_calls += chunk.unpriced;
    if (chunk.rows < chunkSize || !chunk.last) return result;
    cursor = chunk.last;
  }
}

async function repriceChunk(
  sql: Sql,
  book: PriceBook,
  range: DateRange,
  after: Cursor | undefined,
  limit: number,
): Promise<{ rows: number; changed: number; unpriced: number; last: Cursor | undefined }> {
  // The cursor travels as UTC text with microseconds, sent as text: a parameter typed
  // timestamptz goes through a JS Date in postgres.js, which drops them and would re-read rows forever.
  const past = after
    ? sql`AND created_at >= ${after.createdAt}::text::timestamptz AND (created_at, id) > (${after.createdAt}::text::timestamptz, ${after.id}::uuid)`
    : sql``;
  const rows = await sql`
    SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_utc,
      provider, model, deployment, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens
    FROM llm_tracker_usage
    WHERE ${inRange(sql, range)} ${past}
    ORDER BY created_at, id
    LIMIT ${limit}
    FOR UPDATE`;
  if (rows.length === 0) return { rows: 0, changed: 0, unpriced: 0, last: undefined };

  const prices: { id: string; created_at: string; cost_usd: string | null }[] = [];
  let unpriced = 0;
  for (const row of rows) {
    const price = priceRow(book, {
      id: row.id as string,
      provider: row.provider as string | null,
      model: row.model as string,
      deployment: row.deployment as string | null,
      prompt_tokens: row.prompt_tokens as number,
      completion_tokens: row.completion_tokens as number,
      cached_tokens: row.cached_tokens as number,
      reasoning_tokens: row.reasoning_tokens as number,
    });
    if (price.cost_usd === null) unpriced += 1;
    prices.push({ id: row.id as string, created_at: row.created_at_utc as string, cost_usd: price.cost_usd });
  }
  // Unchanged rows are left alone: no dead tuples, no rollup churn for them.
  // The (id, cost) pairs travel as one JSON text, not as array parameters: those need
  // postgres.js's fetched array types, which our connections turn off (see createConnection)
  // and a caller's `options.db` may not have either. Costs stay decimal strings, read by numeric.
  const updated = await sql`
    UPDATE llm_tracker_usage AS u
    SET cost_usd = v.cost_usd::numeric, price_version = ${book.version}
    FROM json_to_recordset(${JSON.stringify(prices)}::text::json) AS v(id uuid, created_at timestamptz, cost_usd text)
    -- The whole key (created_at, id): each row is found in its own day's partition by its primary key.
    WHERE u.created_at = v.created_at AND u.id = v.id
      AND (u.cost_usd IS DISTINCT FROM v.cost_usd::numeric OR u.price_version IS DISTINCT FROM ${book.version})`;
  const lastRow = rows[rows.length - 1]!;
  return { rows: rows.length, changed: updated.count, unpriced, last: { createdAt: lastRow.created_at_utc as string, id: lastRow.id as string } };
}
