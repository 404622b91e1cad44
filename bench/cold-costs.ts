// Quick measurement (not a test, not a section): what single operations cost the first time
// after the process sat idle for 2 ms — as at the end of a call that waited on the network,
// when the CPU's caches hold other work — beside the same operation back to back. It is why
// the event's id, created_at and parts are made the way they are (src/usage/event-id.ts,
// iso-timestamp.ts, build-event.ts). Run: npx tsx bench/cold-costs.ts [samples=1500]
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { newEventId } from "../src/usage/event-id.js";
import { isoTimestamp } from "../src/usage/iso-timestamp.js";
import { median } from "./support/figures.js";

const samples = Number(process.argv[2] ?? 1_500);
const date = new Date();
const context = { createdAt: date, provider: "openai", nodeName: "node", state: { user_id: "u" }, streamed: true, operation: "chat" };
let sink: unknown;

const pairs: [string, () => unknown, string, () => unknown][] = [
  ["crypto.randomUUID()", () => randomUUID(), "newEventId()", () => newEventId()],
  ["date.toISOString()", () => date.toISOString(), "isoTimestamp(date)", () => isoTimestamp(date)],
  ["{ ...context, 7 more fields }", () => ({ ...context, latencyMs: 1, usage: null, usageReported: true, deployment: null, success: true, error: null, timeToFirstTokenMs: 2 }),
   "{ 7 fields } (context read in place)", () => ({ latencyMs: 1, usage: null, usageReported: true, deployment: null, success: true, error: null, timeToFirstTokenMs: 2 })],
];

async function time(op: () => unknown, idleMs: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    if (idleMs > 0) await sleep(idleMs);
    else await new Promise((resolve) => setImmediate(resolve));
    const start = performance.now();
    sink = op();
    runs.push((performance.now() - start) * 1000);
  }
  return median(runs);
}

console.log(`median of ${samples} single operations, µs: after 2 ms idle | back to back`);
for (const [oldName, oldOp, newName, newOp] of pairs) {
  for (const [name, op] of [[oldName, oldOp], [newName, newOp]] as const) {
    const cold = await time(op, 2);
    const warm = await time(op, 0);
    console.log(`${name.padEnd(38)} ${cold.toFixed(2).padStart(6)} | ${warm.toFixed(2).padStart(6)}`);
  }
}
void sink;
