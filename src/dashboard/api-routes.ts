// The dashboard's JSON API: one route per stats function, each answering
// exactly what that function returns for the query's range, zone and filter
// (over-time, with `format=columns`, the same entries reshaped as columns).
import {
  getRecentFailures,
  getStatsByModel,
  getStatsByNode,
  getStatsByUser,
  getStatsOverTime,
  getSummaryStats,
  InvalidInputError,
  MAX_FAILURES,
  type StatsDatabase,
  type StatsOptions,
} from "../stats/index.js";
import { getBudgetStatus } from "../budgets/default-guard.js";
import { ApiParameterError } from "./api-parameter-error.js";
import { COMMON_PARAMETERS, parseApiQuery, type ApiQuery, type ParameterName } from "./api-query.js";
import { OVER_TIME_KEY_FIELD } from "../stats/stats-options.js";
import { overTimeColumns } from "./over-time-columns.js";

/** The most rows a table route returns (`limit`, default this). */
export const MAX_TABLE_ROWS = 1_000;

interface Route {
  parameters: readonly ParameterName[];
  maxLimit: number;
  run(query: ApiQuery, options: StatsOptions): Promise<unknown>;
}

const ROUTES: Record<string, Route> = {
  "/api/summary": {
    parameters: COMMON_PARAMETERS,
    maxLimit: 0,
    run: (q, options) => getSummaryStats(q.from, q.to, options),
  },
  "/api/by-model": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_TABLE_ROWS,
    // Models are few; the limit is applied here (getStatsByModel has none).
    run: async (q, options) => (await getStatsByModel(q.from, q.to, options)).slice(0, q.limit ?? MAX_TABLE_ROWS),
  },
  "/api/by-user": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_TABLE_ROWS,
    run: (q, options) => getStatsByUser(q.from, q.to, { ...options, limit: q.limit ?? MAX_TABLE_ROWS }),
  },
  "/api/by-node": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_TABLE_ROWS,
    run: (q, options) => getStatsByNode(q.from, q.to, { ...options, limit: q.limit ?? MAX_TABLE_ROWS }),
  },
  "/api/over-time": {
    parameters: [...COMMON_PARAMETERS, "bucket", "group_by", "limit", "format"],
    maxLimit: MAX_TABLE_ROWS,
    // `bucket` is required: the stats name it when it is missing.
    run: async (q, options) => {
      const entries = await getStatsOverTime(q.from as string, q.to as string, { ...options, bucket: q.bucket as "hour" | "day", groupBy: q.groupBy, limit: q.limit });
      return q.format === "columns" ? overTimeColumns(entries, q.groupBy && OVER_TIME_KEY_FIELD[q.groupBy]) : entries;
    },
  },
  // Each budget's spend in its current period (Redis, not the range): [] without LLM_TRACKER_BUDGETS.
  "/api/budgets": {
    parameters: [],
    maxLimit: 0,
    run: () => getBudgetStatus(),
  },
  "/api/failures": {
    parameters: [...COMMON_PARAMETERS, "limit"],
    maxLimit: MAX_FAILURES,
    run: (q, options) => getRecentFailures(q.limit ?? 20, { ...options, startDate: q.from, endDate: q.to }),
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
