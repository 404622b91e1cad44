// `llm-tracker stats <report>`: the stats library from a shell, as a table or JSON.
import { parseArgs } from "node:util";
import { InvalidInputError } from "../../errors/invalid-input-error.js";
import {
  close,
  getRecentFailures,
  getStatsByDay,
  getStatsByModel,
  getStatsByNode,
  getStatsByUser,
  getStatsOverTime,
  getSummaryStats,
  type OverTimeOptions,
} from "../../stats/index.js";
import { EXIT, type CliCommand } from "../cli-command.js";
import { formatTable } from "../format-table.js";
/** What a report receives from the flags; each passes on the ones it takes. */
interface ReportFlags {
  from: string | undefined;
  to: string | undefined;
  timeZone: string | undefined;
  limit: number | string | undefined;
  bucket: string | undefined;
  groupBy: string | undefined;
}

type Report = (flags: ReportFlags) => Promise<object>;

const REPORTS: Record<string, Report> = {
  summary: (f) => getSummaryStats(f.from, f.to, { timeZone: f.timeZone }),
  "by-model": (f) => getStatsByModel(f.from, f.to, { timeZone: f.timeZone }),
  "by-day": (f) => getStatsByDay(f.from, f.to, { timeZone: f.timeZone }),
  "by-user": (f) => getStatsByUser(f.from, f.to, { timeZone: f.timeZone, limit: f.limit as number | undefined }),
  "by-node": (f) => getStatsByNode(f.from, f.to, { timeZone: f.timeZone, limit: f.limit as number | undefined }),
  // The flags are passed as typed; the library names any bad one, and the error is mapped back to its flag below.
  "over-time": (f) =>
    getStatsOverTime(f.from as string, f.to as string, {
      timeZone: f.timeZone,
      bucket: f.bucket as OverTimeOptions["bucket"],
      groupBy: f.groupBy as OverTimeOptions["groupBy"],
      limit: f.limit as number | undefined,
    }),
  failures: (f) => getRecentFailures(f.limit as number | undefined, { startDate: f.from, endDate: f.to, timeZone: f.timeZone }),
};

/** Which flags only some reports take. */
const TAKES: Record<string, readonly ("limit" | "bucket" | "groupBy")[]> = {
  "by-user": ["limit"],
  "by-node": ["limit"],
  "over-time": ["bucket", "groupBy", "limit"],
  failures: ["limit"],
};

/** The library's argument names → the flag a user typed. */
const FLAGS: Record<string, string> = {
  startDate: "--from",
  endDate: "--to",
  "options.startDate": "--from",
  "options.endDate": "--to",
  "options.timeZone": "--tz",
  "options.limit": "--limit",
  limit: "--limit",
  "options.bucket": "--bucket",
  "options.groupBy": "--group-by",
};

const HELP = [
  "Usage: llm-tracker stats <summary|by-model|by-day|by-user|by-node> [--from DATE] [--to DATE] [--tz ZONE] [--limit N] [--json]",
  "       llm-tracker stats over-time --bucket hour|day --from DATE --to DATE [--group-by model|user|node] [--limit N] [--tz ZONE] [--json]",
  "       llm-tracker stats failures [--limit N] [--from DATE] [--to DATE] [--tz ZONE] [--json]",
  "",
  "Reads usage figures from LLM_TRACKER_STATS_DATABASE_URL (a read replica), or DATABASE_URL when unset.",
  "",
  "  --from DATE         start, inclusive: 2026-03-01 (midnight in --tz) or an ISO date-time",
  "  --to DATE           end: a date-only value includes that whole day; a date-time is exclusive",
  "  --tz ZONE           IANA time zone for day and hour boundaries and for times shown (default UTC)",
  "  --limit N           by-user, by-node: the top N by tokens; over-time: the top N series of --group-by;",
  "                      failures: how many (default 20, at most 1000)",
  "  --bucket UNIT       over-time: hour or day (required; at most 1000 buckets)",
  "  --group-by KEY      over-time: one series per model, user or node",
  "  --json              print JSON instead of a table",
].join("\n");

const statsCommand: CliCommand = {
  summary: "usage figures: summary, by-model, by-day, by-user, by-node, over-time, failures (--from --to --tz --json)",
  help: HELP,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          from: { type: "string" },
          to: { type: "string" },
          tz: { type: "string" },
          limit: { type: "string" },
          bucket: { type: "string" },
          "group-by": { type: "string" },
          json: { type: "boolean", default: false },
        },
      });
    } catch (error) {
      console.error(`llm-tracker stats: ${(error as Error).message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const [name, ...extra] = parsed.positionals;
    const report = name === undefined ? undefined : REPORTS[name];
    if (!report || extra.length > 0) {
      console.error(`llm-tracker stats: ${name === undefined ? "which report?" : `unknown report "${[name, ...extra].join(" ")}"`}\n\n${HELP}`);
      return EXIT.usage;
    }
    const { from, to, tz, limit, bucket, "group-by": groupBy, json } = parsed.values;
    const given = { limit, bucket, groupBy };
    const refused = (Object.keys(given) as (keyof typeof given)[]).find((flag) => given[flag] !== undefined && !TAKES[name!]?.includes(flag));
    if (refused) {
      console.error(`llm-tracker stats: ${FLAGS[`options.${refused}`]} does not apply to ${name}\n\n${HELP}`);
      return EXIT.usage;
    }
    try {
      // A whole number becomes a number; anything else goes through as typed, for the library to name.
      const count = limit !== undefined && /^\d+$/.test(limit) ? Number(limit) : limit;
      const result = await report({ from, to, timeZone: tz, limit: count, bucket, groupBy });
      if (json) console.log(JSON.stringify(result, null, 2));
      else if (Array.isArray(result)) console.log(result.length === 0 ? "(no calls in this range)" : formatTable(result));
      else console.log(formatTable(Object.entries(result).map(([figure, value]) => ({ figure, value }))));
      return EXIT.ok;
    } catch (error) {
      // Name the flag the user typed, not the library's argument.
      if (error instanceof InvalidInputError && error.argument in FLAGS) {
        const flag = FLAGS[error.argument]!;
        throw new InvalidInputError(flag, error.message.slice(error.argument.length + 2));
      }
      throw error;
    } finally {
      await close();
    }
  },
};

export default statsCommand;
