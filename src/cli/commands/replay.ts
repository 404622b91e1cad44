// `llm-tracker replay`: sends spooled usage events to the queue, and with
// --failed moves the queue's failed jobs back to waiting.
import { Queue } from "bullmq";
import { getTrackerSettings } from "../../config/settings.js";
import { redactUrl } from "../../logger.js";
import { createRedisClient } from "../../redis/redis-client.js";
import { replaySpoolFiles } from "../../usage/producer.js";
import { Spool } from "../../usage/spool.js";
import { EXIT, type CliCommand } from "../cli-command.js";
import { quietClosedConnections } from "../../redis/quiet-closed-connections.js";

const replayCommand: CliCommand = {
  summary: "send spooled usage events to the queue (--failed: also retry failed jobs)",
  help: [
    "Usage: llm-tracker replay [--failed]",
    "",
    "Claims every replayable file in LLM_TRACKER_SPOOL_DIR (sealed files, and files",
    "of processes that are gone), queues its events on LLM_TRACKER_QUEUE at REDIS_URL",
    "and deletes the file. Files are claimed by atomic rename, so running this while",
    "producers replay too never queues a file twice. LLM_TRACKER_QUEUE_PREFIX and",
    "LLM_TRACKER_REDIS_CLUSTER say where the queue's keys are, as for the worker.",
    "",
    "  --failed   also move the queue's failed jobs back to waiting, so the worker",
    "             tries them again (after fixing what made them fail)",
  ].join("\n"),
  async run(args) {
    const unknown = args.filter((arg) => arg !== "--failed");
    if (unknown.length > 0) {
      console.error(`llm-tracker replay: unknown option ${unknown[0]}`);
      return EXIT.usage;
    }
    const settings = getTrackerSettings();
    const redis = createRedisClient({ url: settings.redisUrl, cluster: settings.redisCluster }, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on("error", () => {}); // reported through the awaited calls below
    const queue = quietClosedConnections(new Queue(settings.queueName, { connection: redis, prefix: settings.queuePrefix }));
    queue.on("error", () => {});
    try {
      await withDeadline(queue.waitUntilReady(), 10_000, `Redis at ${redactUrl(settings.redisUrl)} did not answer`);
      const spool = new Spool({ dir: settings.spoolDir });
      const result = await replaySpoolFiles(spool, queue, settings.jobSize);
      console.log(`llm-tracker replay: ${result.replayed} spooled events from ${result.files} files queued on ${settings.queueName}`);
      if (result.badLines > 0) console.error(`llm-tracker replay: ${result.badLines} unreadable spool lines skipped`);
      if (args.includes("--failed")) {
        const failed = await queue.getJobCountByTypes("failed");
        await queue.retryJobs({ state: "failed" });
        console.log(`llm-tracker replay: ${failed} failed jobs moved back to waiting`);
      }
      return EXIT.ok;
    } finally {
      await queue.close().catch(() => {});
      redis.disconnect();
    }
  },
};

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export default replayCommand;
