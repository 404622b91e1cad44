// Child-process entry: a BullMQ Worker whose processor does nothing, the ceiling
// of raw BullMQ consumption. Started on a filled queue, it prints `ready`, then
// drains it and prints `done <jobs> <seconds>` (timed here, from the first fetch).
// Args: <redisUrl> <queueName> <jobs> <concurrency>
import { Worker } from "bullmq";

const [redisUrl, queueName, jobsText, concurrencyText] = process.argv.slice(2);
const jobs = Number(jobsText);
let completed = 0;
let started = 0;
const worker = new Worker(queueName!, async () => {}, {
  connection: { url: redisUrl, maxRetriesPerRequest: null },
  concurrency: Number(concurrencyText),
  autorun: false,
});
worker.on("completed", () => {
  completed += 1;
  if (completed === jobs) console.log(`done ${completed} ${(performance.now() - started) / 1000}`);
});
await worker.waitUntilReady();
console.log("ready");
process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
started = performance.now();
void worker.run();
