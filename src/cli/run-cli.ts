// Dispatches `llm-tracker <command> …`; each command module owns its flags and help.
import { LLMTrackerError } from "../errors/llm-tracker-error.js";
import { EXIT, type CliCommand } from "./cli-command.js";

const commands: Record<string, () => Promise<CliCommand>> = {
  migrate: async () => (await import("./commands/migrate.js")).default,
  worker: async () => (await import("./commands/worker.js")).default,
  replay: async () => (await import("./commands/replay.js")).default,
  stats: async () => (await import("./commands/stats.js")).default,
  dashboard: async () => (await import("./commands/dashboard.js")).default,
  budgets: async () => (await import("./commands/budgets.js")).default,
};

async function usage(): Promise<string> {
  const lines = ["Usage: llm-tracker <command> [options]", "", "Commands:"];
  for (const [name, load] of Object.entries(commands)) {
    try {
      lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
    } catch {
      lines.push(`  ${name}`);
    }
  }
  lines.push("", "Run `llm-tracker <command> --help` for a command's options.");
  return lines.join("\n");
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = commands[name];
  if (!load) {
    console.error(`llm-tracker: unknown command "${name}"\n\n${await usage()}`);
    return EXIT.usage;
  }
  const command = await load();
  if (args.includes("--help") || args.includes("-h")) {
    console.log(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(args);
  } catch (error) {
    // One clear line, not a stack trace: our own errors are written for people already.
    // The line already names the program: a library message's own "llm-tracker: " is not repeated.
    const message = (error instanceof LLMTrackerError || error instanceof Error ? error.message : String(error)).replace(/^llm-tracker: /, "");
    console.error(`llm-tracker ${name}: ${message}`);
    return error instanceof LLMTrackerError && error.name === "InvalidInputError" ? EXIT.usage : EXIT.failure;
  }
}
