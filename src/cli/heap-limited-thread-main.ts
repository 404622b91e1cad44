// The entry of a heap-limited thread (see heap-limited-thread.ts): runs the
// command named in its argv and ends the thread with the command's exit code.
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(process.argv.slice(2));
