// Run as a child process by the spool tests: records usage events through the
// default producer while Redis is unreachable, prints their ids, and exits
// without calling shutdown() (the process hooks must spool them).
import { LLMTracker } from "../../src/index.js";

const count = Number(process.argv[2] ?? "5");
const ids: string[] = [];
for (let i = 0; i < count; i++) {
  ids.push(LLMTracker.record({ usage: { model: "gpt-child", prompt_tokens: i + 1, completion_tokens: 1 }, nodeName: "child" }));
}
process.stdout.write(`${JSON.stringify(ids)}\n`);
// The mode comes from the parent: "natural" lets the event loop run dry, "exit" calls process.exit().
if (process.argv[3] === "exit") process.exit(0);
