// The series behind the charts and their CSV: the page asks the API for the
// top models' series only (`limit`, so the server reads and sends a handful
// of series, not every model's) and for the totals per bucket; what the totals
// hold beyond the top models is one more series per bucket, "other models".

/** Models charted in their own colour; the rest are summed as "other". */
export const TOP_MODELS = 7;
/** The model key of the summed rest: no model name starts with a NUL. */
export const OTHER = "\u0000other";
/** How "other models" is written where a model name would be (legend, CSV). */
export const OTHER_LABEL = "(other models)";

const COUNTS = ["total_calls", "successful_calls", "failed_calls", "total_prompt_tokens", "total_completion_tokens", "total_tokens"];
/** Costs are sums of numeric(30,10): the difference is rounded there, so float noise does not show as a cost. */
const COST_SCALE = 1e10;

/**
 * `top` (over-time entries grouped by model, the top models) and, after each
 * bucket's, an entry `{ model: OTHER }` with that bucket's `totals` entry less
 * the top models' — left out where the top models made every call.
 */
export function withOtherModels(top, totals) {
  const topByBucket = new Map();
  for (const entry of top) {
    const entries = topByBucket.get(entry.bucket_start) ?? [];
    entries.push(entry);
    topByBucket.set(entry.bucket_start, entries);
  }
  const entries = [];
  for (const total of totals) {
    const tops = topByBucket.get(total.bucket_start) ?? [];
    entries.push(...tops);
    const other = { bucket_start: total.bucket_start, model: OTHER };
    for (const field of COUNTS) other[field] = total[field] - tops.reduce((sum, entry) => sum + entry[field], 0);
    const cost = total.total_cost_usd - tops.reduce((sum, entry) => sum + entry.total_cost_usd, 0);
    other.total_cost_usd = Math.max(0, Math.round(cost * COST_SCALE) / COST_SCALE);
    if (other.total_calls > 0) entries.push(other);
  }
  return entries;
}
