// The query string of an API request, parsed into the stats' arguments; a bad
// parameter becomes an ApiParameterError that names it (the server answers 400).
import type { StatsFilter } from "../stats/index.js";
import { ApiParameterError } from "./api-parameter-error.js";

/** Everything an API route may read; each route says which of these it accepts. */
export interface ApiQuery {
  from?: string;
  to?: string;
  tz?: string;
  filter: StatsFilter;
  bucket?: "hour" | "day";
  groupBy?: "model" | "user" | "node";
  limit?: number;
  /** How /api/over-time lays out its answer: getStatsOverTime's entries (the default) or columns (over-time-columns.ts). */
  format?: "entries" | "columns";
}

export type ParameterName = "from" | "to" | "tz" | "user" | "user_null" | "node" | "node_null" | "model" | "bucket" | "group_by" | "limit" | "format";

/** The range and filter parameters every route takes. */
export const COMMON_PARAMETERS: readonly ParameterName[] = ["from", "to", "tz", "user", "user_null", "node", "node_null", "model"];

/** Values longer than this are refused: no date, zone, id or model name is that long. */
const MAX_VALUE_LENGTH = 1_000;

/**
 * Parses `params`, accepting only the names in `accepted`. Dates and zones are
 * checked by the stats themselves (their errors are mapped back to these names
 * by the server); here: unknown or repeated names, enums, limits and filters.
 */
export function parseApiQuery(params: URLSearchParams, accepted: readonly ParameterName[], maxLimit: number): ApiQuery {
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!(accepted as readonly string[]).includes(name)) throw new ApiParameterError(name.slice(0, 60), `unknown parameter (accepted: ${accepted.join(", ")})`);
    if (seen.has(name)) throw new ApiParameterError(name, "given more than once");
    if (value.length > MAX_VALUE_LENGTH) throw new ApiParameterError(name, `longer than ${MAX_VALUE_LENGTH} characters`);
    seen.add(name);
  }
  const get = (name: ParameterName) => params.get(name) ?? undefined;
  const query: ApiQuery = { from: get("from"), to: get("to"), tz: get("tz"), filter: {} };

  const user = nullableKey(params, "user", "user_null");
  if (user !== undefined) query.filter.userId = user;
  const node = nullableKey(params, "node", "node_null");
  if (node !== undefined) query.filter.nodeName = node;
  const model = get("model");
  if (model !== undefined) query.filter.model = model;

  const bucket = get("bucket");
  if (bucket !== undefined) {
    if (bucket !== "hour" && bucket !== "day") throw new ApiParameterError("bucket", `expected hour or day, got ${quote(bucket)}`);
    query.bucket = bucket;
  }
  const groupBy = get("group_by");
  if (groupBy !== undefined) {
    if (groupBy !== "model" && groupBy !== "user" && groupBy !== "node") throw new ApiParameterError("group_by", `expected model, user or node, got ${quote(groupBy)}`);
    query.groupBy = groupBy;
  }
  const limit = get("limit");
  if (limit !== undefined) {
    const value = /^\d{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(value >= 1 && value <= maxLimit)) throw new ApiParameterError("limit", `expected an integer from 1 to ${maxLimit}, got ${quote(limit)}`);
    query.limit = value;
  }
  const format = get("format");
  if (format !== undefined) {
    if (format !== "entries" && format !== "columns") throw new ApiParameterError("format", `expected entries or columns, got ${quote(format)}`);
    query.format = format;
  }
  return query;
}

/** `user=<id>` keeps one user's calls, `user_null=1` those without a user; both at once is a contradiction. */
function nullableKey(params: URLSearchParams, name: ParameterName, nullName: ParameterName): string | null | undefined {
  const value = params.get(name) ?? undefined;
  const isNull = params.get(nullName) ?? undefined;
  if (isNull !== undefined) {
    if (isNull !== "1" && isNull !== "true") throw new ApiParameterError(nullName, `expected 1 or true, got ${quote(isNull)}`);
    if (value !== undefined) throw new ApiParameterError(nullName, `contradicts ${name}=…: give one of them`);
    return null;
  }
  return value;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
