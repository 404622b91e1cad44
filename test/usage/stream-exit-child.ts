// Run as a child process by the stream process-exit tests: opens a tracked stream (its
// configuration comes from the environment), reads the first delta, prints it, and then
// - "exit": calls process.exit(0) with the stream unfinished;
// - "wait": keeps waiting for a chunk that never comes, until the parent sends SIGTERM.
import { LLMTracker } from "../../src/index.js";

const mode = process.argv[2];
const stream = await LLMTracker.streamAndTrack({ messages: [{ role: "user", content: "hello" }], nodeName: `exit-${mode}` });
const first = await stream.next();
process.stdout.write(`first ${JSON.stringify(first.value)}\n`);
if (mode === "exit") process.exit(0);
// "wait": a read that the stalled server never answers; SIGTERM ends the process.
await stream.next().catch(() => {});
