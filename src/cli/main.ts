#!/usr/bin/env node
// The `llm-tracker` command: one subcommand per file in ./commands.
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(process.argv.slice(2));
