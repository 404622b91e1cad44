// Run as a child process by the producer fault test, with Node's default
// unhandled-rejection mode: records usage events through the default producer
// (REDIS_URL points at the fault proxy) in rounds of 150, flushing after each,
// until a line arrives on stdin; then shuts the producer down. An unhandled
// rejection or exception kills the process, which the test sees as a missing
// "done" line. Prints `{"round":n}` per round and `{"done":true,"ids":[…]}` at the end.
import { createInterface } from "node:readline";
import { flush, LLMTracker, shutdown } from "../../src/index.js";

const ids: string[] = [];
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
let stop = false;
createInterface({ input: process.stdin }).once("line", () => (stop = true));

for (let round = 1; !stop; round += 1) {
  // 150 events: two jobs, so one send is a pipeline of two job scripts.
  for (let i = 0; i < 150; i += 1) {
    ids.push(LLMTracker.record({ usage: { model: "gpt-fault", prompt_tokens: i + 1, completion_tokens: 1 }, nodeName: `round-${round}` }));
  }
  await flush();
  print({ round });
  // A pause between rounds, as an application's calls come: room for the producer to reconnect.
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await shutdown();
// Stay a moment: a rejection left behind by a cut connection would surface here and end the process.
await new Promise((resolve) => setTimeout(resolve, 300));
print({ done: true, ids });
process.stdin.destroy();
