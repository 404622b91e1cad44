// Child-process entry: a BullMQ Worker whose processor does nothing, the ceiling
// of raw BullMQ consumption. Prints `ready`, then `done <n>` once n jobs completed.
// Args: <redisUrl> <queueName> <jobs> <concurrency>
import { Worker } from "bullmq";

const [redisUrl, queueName, jobsText, concurrencyText] = process.argv.slice(2);
const jobs = Number(jobsText);
let completed = 0;
const worker = new Worker(queueName!, async () => {}, { connection: { url: redisUrl, maxRetriesPerRequest: null }, concurrency: Number(concurrencyText) });
worker.on("completed", () => {
  completed += 1;
  if (completed === jobs) console.log(`done ${completed}`);
});
await worker.waitUntilReady();
console.log("ready");
process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
