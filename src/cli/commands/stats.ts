// `llm-tracker stats <report>`: the stats library from a shell, as a table or JSON.
import { parseArgs } from "node:util";
import { InvalidInputError } from "../../errors/invalid-input-error.js";
import { close, getStatsByDay, getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats, type StatsOptions } from "../../stats/index.js";
import { EXIT, type CliCommand } from "../cli-command.js";

type Report = (from: string | undefined, to: string | undefined, options: StatsOptions) => Promise<object>;

const REPORTS: Record<string, Report> = {
  summary: getSummaryStats,
  "by-model": getStatsByModel,
  "by-day": getStatsByDay,
  "by-user": getStatsByUser,
  "by-node": getStatsByNode,
};

const FLAGS = { startDate: "--from", endDate: "--to", "options.timeZone": "--tz" } as const;

const HELP = [
  "Usage: llm-tracker stats <summary|by-model|by-day|by-user|by-node> [--from DATE] [--to DATE] [--tz ZONE] [--json]",
  "",
  "Reads usage figures from LLM_TRACKER_STATS_DATABASE_URL (a read replica), or DATABASE_URL when unset.",
  "",
  "  --from DATE   start, inclusive: 2026-03-01 (midnight in --tz) or an ISO date-time",
  "  --to DATE     end: a date-only value includes that whole day; a date-time is exclusive",
  "  --tz ZONE     IANA time zone for day boundaries and by-day grouping (default UTC)",
  "  --json        print JSON instead of a table",
].join("\n");

/** Left-aligned text columns, right-aligned numbers; null shown as `-`. */
function formatTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "(no calls in this range)";
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((column) => (row[column] === null ? "-" : String(row[column]))));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]!.length)));
  const numeric = columns.map((column) => rows.every((row) => typeof row[column] === "number"));
  const line = (values: string[]) => values.map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)].join("\n");
}

const statsCommand: CliCommand = {
  summary: "usage figures: summary, by-model, by-day, by-user, by-node (--from --to --tz --json)",
  help: HELP,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { from: { type: "string" }, to: { type: "string" }, tz: { type: "string" }, json: { type: "boolean", default: false } },
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
    const { from, to, tz, json } = parsed.values;
    try {
      const result = await report(from, to, { timeZone: tz });
      if (json) console.log(JSON.stringify(result, null, 2));
      else if (Array.isArray(result)) console.log(formatTable(result));
      else console.log(formatTable(Object.entries(result).map(([figure, value]) => ({ figure, value }))));
      return EXIT.ok;
    } catch (error) {
      // Name the flag the user typed, not the library's argument.
      if (error instanceof InvalidInputError && error.argument in FLAGS) {
        const flag = FLAGS[error.argument as keyof typeof FLAGS];
        throw new InvalidInputError(flag, error.message.slice(error.argument.length + 2));
      }
      throw error;
    } finally {
      await close();
    }
  },
};

export default statsCommand;
