// The admin page's own requests, timed over HTTP against `llm-tracker dashboard`'s server on
// the seeded rows: each of the seven API calls the page makes on a load (with the page's own
// parameters: the chart's top 7 models and totals, hourly up to a week and daily beyond, tables
// of 50, 50 failures), and the whole load (all seven at once, as the page sends them); past a
// week, the hourly chart calls too, as information (the page no longer offers them there). The baseline is the same stats call made in-process;
// each answer must equal it (after JSON), or the section throws. The chart's calls ask for columns, as the page does, and are
// turned back into entries by the page's own module (timed with the request: the page pays it too).
import { isDeepStrictEqual } from "node:util";
import { startDashboardServer } from "../../src/dashboard/dashboard-server.js";
import { createDashboardConnection } from "../../src/dashboard/dashboard-pool.js";
import { getRecentFailures, getStatsByModel, getStatsByNode, getStatsByUser, getStatsOverTime, getSummaryStats, type StatsDatabase } from "../../src/stats/index.js";
// @ts-expect-error: a plain ES module of the page, without type declarations.
import { entriesFromColumns as untypedEntriesFromColumns } from "../../src/dashboard/page/over-time-columns.js";
import { fmt, median, timeRuns, verdict, type Row } from "./figures.js";
import type { StatsRange } from "./stats-seed.js";

/** What the page asks for (src/dashboard/page/dashboard.js: TABLE_ROWS, FAILURE_ROWS; over-time-series.js: TOP_MODELS). */
const TABLE_ROWS = 50;
const FAILURE_ROWS = 50;
const TOP_MODELS = 7;

const entriesFromColumns = untypedEntriesFromColumns as (columns: unknown) => unknown[];

interface PageCall {
  path: string;
  params: Record<string, string>;
  /** What the page makes of the JSON before using it (the chart's columns back into entries); default: the JSON as it is. */
  fromJson?(json: unknown): unknown;
  inProcess(range: StatsRange, db: StatsDatabase): Promise<unknown>;
}

/** The page charts hourly up to this many days, daily beyond (src/dashboard/page/time-range.js: MAX_HOURLY_DAYS). */
const MAX_HOURLY_DAYS = 7;

/** The bucket the page charts `range` in: hourly when it may (its heaviest chart), else daily. */
function pageBucket(range: StatsRange): "hour" | "day" {
  // Wall-clock ends read as UTC: hours off at most, which cannot move a range across a week.
  const ms = (text: string) => Date.parse(/Z$/.test(text) ? text : `${text}Z`);
  return (ms(range.end) - ms(range.start)) / 86_400_000 <= MAX_HOURLY_DAYS ? "hour" : "day";
}

/** The page's calls for one range, with the page's own parameters. */
function pageCalls(bucket: "hour" | "day"): PageCall[] {
  return [
    { path: "/api/summary", params: {}, inProcess: (r, db) => getSummaryStats(r.start, r.end, { db, timeZone: r.zone }) },
    // The charts: the top models' series and the totals per bucket (the rest of the models is their difference).
    {
      path: "/api/over-time",
      params: { bucket, group_by: "model", limit: String(TOP_MODELS), format: "columns" },
      fromJson: entriesFromColumns,
      inProcess: (r, db) => getStatsOverTime(r.start, r.end, { db, timeZone: r.zone, bucket, groupBy: "model", limit: TOP_MODELS }),
    },
    {
      path: "/api/over-time",
      params: { bucket, format: "columns" },
      fromJson: entriesFromColumns,
      inProcess: (r, db) => getStatsOverTime(r.start, r.end, { db, timeZone: r.zone, bucket }),
    },
    { path: "/api/by-model", params: { limit: String(TABLE_ROWS) }, inProcess: (r, db) => getStatsByModel(r.start, r.end, { db, timeZone: r.zone }) },
    { path: "/api/by-user", params: { limit: String(TABLE_ROWS) }, inProcess: (r, db) => getStatsByUser(r.start, r.end, { db, timeZone: r.zone, limit: TABLE_ROWS }) },
    { path: "/api/by-node", params: { limit: String(TABLE_ROWS) }, inProcess: (r, db) => getStatsByNode(r.start, r.end, { db, timeZone: r.zone, limit: TABLE_ROWS }) },
    {
      path: "/api/failures",
      params: { limit: String(FAILURE_ROWS) },
      inProcess: (r, db) => getRecentFailures(FAILURE_ROWS, { db, startDate: r.start, endDate: r.end, timeZone: r.zone }),
    },
  ];
}

/** What the chart's hourly calls cost where the page no longer offers them (ranges past a week): shown, not targeted. */
function hourlyChartCalls(): PageCall[] {
  return pageCalls("hour").filter((call) => call.path === "/api/over-time");
}

export async function timeDashboardApi(databaseUrl: string, ranges: readonly StatsRange[], label: string, runs: number, targetMs: number | null): Promise<Row[]> {
  // The pool the CLI's dashboard uses (up to 10 connections, kept 5 minutes idle).
  const connection = createDashboardConnection(databaseUrl);
  const server = await startDashboardServer({ port: 0, db: connection });
  const rows: Row[] = [];
  const row = (figure: string, ms: number, baseline: string): Row => ({
    figure: `dashboard ${figure}, ${label} rows`,
    value: `${fmt.ms(ms)} (median of ${runs})`,
    baseline,
    target: targetMs === null ? "-" : `≤ ${targetMs} ms`,
    verdict: targetMs === null ? "" : verdict(ms <= targetMs),
  });
  try {
    for (const range of ranges) {
      const url = (call: PageCall) => `${server.url.replace(/\/$/, "")}${call.path}?${new URLSearchParams({ from: range.start, to: range.end, tz: range.zone, ...call.params })}`;
      const get = async (call: PageCall) => {
        const response = await fetch(url(call));
        if (response.status !== 200) throw new Error(`${call.path} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
        const json: unknown = await response.json();
        return call.fromJson ? call.fromJson(json) : json;
      };
      const bucket = pageBucket(range);
      const calls = pageCalls(bucket);
      const timeCall = async (call: PageCall, targeted: boolean) => {
        // Warm-up: plans, caches, the keep-alive socket, the pool's connections (a fresh one pays its
        // start-up and first statements once: a page open for a while has them warm).
        for (let i = 0; i < 3; i += 1) await Promise.all([get(call), call.inProcess(range, connection)]);
        // Interleaved, one of each per round, so both see the same state of the machine and the caches.
        const apiTimes: number[] = [];
        const directTimes: number[] = [];
        let api: unknown;
        let direct: unknown;
        for (let i = 0; i < runs; i += 1) {
          let start = performance.now();
          api = await get(call);
          apiTimes.push(performance.now() - start);
          start = performance.now();
          direct = await call.inProcess(range, connection);
          directTimes.push(performance.now() - start);
        }
        if (!isDeepStrictEqual(api, JSON.parse(JSON.stringify(direct)))) {
          throw new Error(`${call.path} over ${range.label} at ${label} differs from the in-process call`);
        }
        const apiMs = median(apiTimes);
        const directMs = median(directTimes);
        console.log(`${label} dashboard ${call.path}?${new URLSearchParams(call.params)} (${range.label}): ${fmt.ms(apiMs)} vs in-process ${fmt.ms(directMs)} — equal`);
        const asColumns = call.params.format === "columns" ? ", as columns" : "";
        const what = call.params.group_by ? ` (${call.params.bucket}, top ${call.params.limit} models${asColumns})` : call.params.bucket ? ` (${call.params.bucket}, totals${asColumns})` : "";
        const timed = row(`GET ${call.path}${what}, ${range.label}`, apiMs, `the same stats call in-process ${fmt.ms(directMs)}`);
        rows.push(targeted ? timed : { ...timed, figure: `${timed.figure} (the page charts this range daily)`, target: "info", verdict: "" });
      };
      for (const call of calls) await timeCall(call, true);
      if (bucket === "day") for (const call of hourlyChartCalls()) await timeCall(call, false);
      const load = await timeRuns(runs, () => Promise.all(calls.map(get)));
      console.log(`${label} dashboard page load, seven calls at once (${range.label}): ${fmt.ms(load.ms)}`);
      // The target is per API call (issue 13); what a user waits for on a load is printed beside them.
      rows.push({ ...row(`page load (the seven calls at once), ${range.label}`, load.ms, "the seven calls above, on one pool"), target: "info", verdict: "" });
    }
  } finally {
    await server.close();
    await connection.close();
  }
  return rows;
}
