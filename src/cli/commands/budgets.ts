// `llm-tracker budgets`: each budget's spend in its current period, as getBudgetStatus() returns it.
import { parseArgs } from "node:util";
import { EXIT, type CliCommand } from "../cli-command.js";
import { formatTable } from "../format-table.js";

const HELP = [
  "Usage: llm-tracker budgets [--user ID] [--node NAME] [--json]",
  "",
  "Lists each budget of LLM_TRACKER_BUDGETS with what its scope has spent in the current",
  "period (read from Redis, where the worker keeps it from the rows it committed), its limit",
  "and what remains. A budget over every user (or node) lists each user that has spent, most first.",
  "",
  "  --user ID     only the user budgets that apply to this user, with this user's spend",
  "  --node NAME   only the node budgets that apply to this node, with this node's spend",
  "  --json        print JSON instead of a table",
  "",
  "Settings come from the environment: LLM_TRACKER_BUDGETS, REDIS_URL, LLM_TRACKER_REDIS_CLUSTER,",
  "LLM_TRACKER_QUEUE, LLM_TRACKER_QUEUE_PREFIX.",
].join("\n");

const budgetsCommand: CliCommand = {
  summary: "each budget's spend, limit and remainder in its current period (--user --node --json)",
  help: HELP,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { user: { type: "string" }, node: { type: "string" }, json: { type: "boolean", default: false } } });
    } catch (error) {
      console.error(`llm-tracker budgets: ${(error as Error).message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const { getBudgetStatus, closeBudgetGuard } = await import("../../budgets/default-guard.js");
    try {
      const statuses = await getBudgetStatus({
        ...(parsed.values.user === undefined ? {} : { userId: parsed.values.user }),
        ...(parsed.values.node === undefined ? {} : { nodeName: parsed.values.node }),
      });
      if (parsed.values.json) console.log(JSON.stringify(statuses, null, 2));
      else if (statuses.length === 0) console.log("(no budgets: LLM_TRACKER_BUDGETS is not set)");
      else console.log(formatTable(statuses.map((s) => ({ ...s }))));
      return EXIT.ok;
    } finally {
      closeBudgetGuard();
    }
  },
};

export default budgetsCommand;
