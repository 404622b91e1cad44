// Quick measurement (not a test): CPU per event of the worker's prepare step
// (validation + sanitising) on events as BullMQ hands them over (JSON-parsed).
// Run: npx tsx bench/prepare-event.ts [events=200000] [module=../workers/prepare-event.ts]
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { benchEvents } from "./support/usage-rows.js";

const count = Number(process.argv[2] ?? 200_000);
const modulePath = process.argv[3] ? pathToFileURL(resolve(process.argv[3])).href : new URL("../workers/prepare-event.ts", import.meta.url).href;
const { prepareEvent } = (await import(modulePath)) as typeof import("../workers/prepare-event.js");

const wire = JSON.stringify(benchEvents(1_000));
let ok = 0;
for (let round = 0; round < 5; round += 1) {
  const start = performance.now();
  for (let done = 0; done < count; done += 1_000) {
    for (const raw of JSON.parse(wire) as unknown[]) if (prepareEvent(raw).ok) ok += 1;
  }
  const perEvent = ((performance.now() - start) * 1000) / count;
  console.log(`round ${round + 1}: ${perEvent.toFixed(2)} µs/event (JSON.parse of the job data included)`);
}
if (ok !== 5 * Math.ceil(count / 1_000) * 1_000) throw new Error(`expected every bench event accepted, got ${ok}`);
