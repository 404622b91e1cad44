import { getTrackerSettings } from "../../config/settings.js";
import { runMigrations } from "../../db/migrate.js";
import { redactUrl } from "../../logger.js";
import { EXIT, type CliCommand } from "../cli-command.js";

const migrateCommand: CliCommand = {
  summary: "apply the shipped migrations to DATABASE_URL (creates the database if missing)",
  help: [
    "Usage: llm-tracker migrate",
    "",
    "Applies the SQL migrations shipped in drizzle/ to DATABASE_URL, creating the",
    "database first when it does not exist. Safe to run from several processes at",
    "once (an advisory lock serialises them).",
  ].join("\n"),
  async run() {
    const { databaseUrl } = getTrackerSettings();
    await runMigrations(databaseUrl);
    console.log(`llm-tracker migrate: ${redactUrl(databaseUrl)} is up to date`);
    return EXIT.ok;
  },
};

export default migrateCommand;
