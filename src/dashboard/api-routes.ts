// The dashboard's JSON API: one route per stats function, each answering
// exactly what that function returns for the query's range, zone and filter.
import {
  getStatsByModel,
  getStatsByNode,
  getStatsByUser,
  getSummaryStats,
  InvalidInputError,
  type StatsDatabase,
  type StatsOptions,
} from "../stats/index.js";
import { ApiParameterError, COMMON_PARAMETERS, parseApiQuery, type ApiQuery, type ParameterName } from "./api-query.js";

/** The most rows a table route returns (`limit`, default this). */
export const MAX_TABLE_ROWS = 1_000;

interface Route {
  parameters: readonly ParameterName[];
  maxLimit: number;
  run(query: ApiQuery, options: StatsOptions): Promise<unknown>;
}

/** Keeps the first `limit` rows; the stats order them by total_tokens descending. */
const top = <T>(rows: T[], limit = MAX_TABLE_ROWS): T[] => rows.slice(0, limit);

const ROUTES: Record<string, Route> = {
  "/api/summary": {
    parameters: COMMON_PARAMETERS,
    maxLimit: 0,
    run: (q, options) => getSummaryStats(q.from, q.to, options),
  },
  "/api/by-model": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_TABLE_ROWS,
    run: async (q, options) => top(await getStatsByModel(q.from, q.to, options), q.limit),
  },
  "/api/by-user": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_TABLE_ROWS,
    run: async (q, options) => top(await getStatsByUser(q.from, q.to, options), q.limit),
  },
  "/api/by-node": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_TABLE_ROWS,
    run: async (q, options) => top(await getStatsByNode(q.from, q.to, options), q.limit),
  },
};

/** The stats' argument names, as the URL spells them. */
const PARAMETER_OF_ARGUMENT: Record<string, ParameterName> = {
  startDate: "from",
  endDate: "to",
  "options.startDate": "from",
  "options.endDate": "to",
  "options.timeZone": "tz",
  "options.filter.userId": "user",
  "options.filter.nodeName": "node",
  "options.filter.model": "model",
  "options.bucket": "bucket",
  "options.groupBy": "group_by",
  "options.limit": "limit",
  limit: "limit",
};

/** Whether `path` is an API route. */
export function isApiRoute(path: string): boolean {
  return Object.hasOwn(ROUTES, path);
}

/**
 * Runs the route at `path` for `params`. Throws ApiParameterError for a bad
 * parameter (whether this module or the stats found it); any other error is
 * the database's.
 */
export async function runApiRoute(path: string, params: URLSearchParams, db: StatsDatabase | undefined): Promise<unknown> {
  const route = ROUTES[path];
  if (!route) throw new Error(`no API route ${path}`);
  const query = parseApiQuery(params, route.parameters, route.maxLimit);
  try {
    return await route.run(query, { timeZone: query.tz, filter: query.filter, db });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      const parameter = PARAMETER_OF_ARGUMENT[error.argument] ?? error.argument;
      throw new ApiParameterError(parameter, error.message.slice(error.argument.length + 2));
    }
    throw error;
  }
}
