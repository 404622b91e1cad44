// The usage producer: the call path hands events to a bounded in-memory buffer
// (no await, no Redis); a background loop sends them to the BullMQ queue in
// groups, keeps them while Redis is away, and spills them to the durable spool
// when the buffer is full or the process must stop. Every event ends queued,
// spooled, or counted and logged as lost.
import { Queue } from "bullmq";
import { createLogger, redactUrl, type Logger } from "../logger.js";
import { withTimeout } from "../with-timeout.js";
import type { RedisClient } from "../redis/redis-client.js";
import { recordPendingNow } from "./deferred-recording.js";
import { createProducerConnection } from "./producer-connection.js";
import { Spool, type ClaimedSpoolFile } from "./spool.js";
import type { UsageEvent } from "./usage-event.js";
import { groupEvents, usageJob, type UsageJob } from "./usage-jobs.js";
import { quietClosedConnections } from "../redis/quiet-closed-connections.js";

export interface UsageProducerOptions {
  /** Where the queue lives: a server, or with `redisCluster` one node of a Redis Cluster. */
  redisUrl: string;
  /** `redisUrl` names a node of a Redis Cluster. Default false. */
  redisCluster?: boolean;
  /** BullMQ queue name. */
  queueName: string;
  /** BullMQ key prefix (a hash tag such as `{llm-tracker}` on a cluster). Default `bull`. */
  queuePrefix?: string;
  /** Spool directory for events that can not reach Redis. */
  spoolDir: string;
  /** Events held in memory before the oldest are spilled to the spool. Default 10000. */
  bufferSize?: number;
  /** Events per queue job. Default 100. */
  jobSize?: number;
  /** Jobs per `addBulk` round trip. Default 50. */
  jobsPerSend?: number;
  /** A send slower than this counts as failed (and is retried with the same job ids), in ms. Default 5000. */
  sendTimeoutMs?: number;
  /** How long flush() waits for Redis before spooling what is left, in ms. Default 5000. */
  flushTimeoutMs?: number;
  /** Longest pause between retries while Redis fails, in ms. Default 2000. */
  maxRetryDelayMs?: number;
  logger?: Logger;
}

/** Counters since the producer was created. */
export interface ProducerStats {
  /** Events held in memory now (waiting, being sent, or being written to the spool). */
  buffered: number;
  /** Events this producer put on the queue (first delivery). */
  queued: number;
  /** Events written to the spool. */
  spooled: number;
  /** Events read back from the spool and queued (by this producer, from any process's files). */
  replayed: number;
  /** Events neither queued nor spooled (spool write failed, or unreadable spool lines); each was logged with the reason. */
  lost: number;
}

/** A group of consecutive events, sent (and retried) as one job. */
interface Batch {
  /** Sequence number of the first event; later batches hold later events. */
  firstSeq: number;
  events: UsageEvent[];
  job?: UsageJob;
}

interface FlushWaiter {
  /** Resolves once every event numbered below this has settled. */
  untilSeq: number;
  resolve: () => void;
}

export class UsageProducer {
  private readonly options: Required<Omit<UsageProducerOptions, "logger">>;
  private readonly logger: Logger;
  private readonly connection: RedisClient;
  private queue: Queue;
  private readonly spool: Spool;

  /** Newest events, in order; `buffer[0]` has sequence number `bufferFirstSeq`. */
  private buffer: UsageEvent[] = [];
  private bufferFirstSeq = 0;
  private nextSeq = 0;
  private held = 0;
  private readonly retrying: Batch[] = [];
  private readonly sending = new Set<Batch>();
  private readonly spilling = new Set<Batch>();
  private waiters: FlushWaiter[] = [];
  /** Events in `spilling`: already on their way to disk, so they do not count against the buffer. */
  private spillingCount = 0;

  private drainScheduled = false;
  private draining = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private redisAway = false;
  private replaying: Promise<void> | undefined;
  private replayAgain = false;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly counters = { queued: 0, spooled: 0, replayed: 0, lost: 0 };

  constructor(options: UsageProducerOptions) {
    this.options = {
      redisUrl: options.redisUrl,
      redisCluster: options.redisCluster ?? false,
      queueName: options.queueName,
      queuePrefix: options.queuePrefix ?? "bull",
      spoolDir: options.spoolDir,
      bufferSize: options.bufferSize ?? 10_000,
      jobSize: options.jobSize ?? 100,
      jobsPerSend: options.jobsPerSend ?? 50,
      sendTimeoutMs: options.sendTimeoutMs ?? 5_000,
      flushTimeoutMs: options.flushTimeoutMs ?? 5_000,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 2_000,
    };
    this.logger = (options.logger ?? createLogger("info")).child({ component: "usage-producer", queue: options.queueName });
    this.spool = new Spool({ dir: options.spoolDir });
    this.connection = createProducerConnection({ url: options.redisUrl, cluster: this.options.redisCluster }, {
      commandTimeoutMs: this.options.sendTimeoutMs,
      maxReconnectDelayMs: this.options.maxRetryDelayMs,
    });
    this.connection.on("error", (error: Error) => this.noteRedisAway(error));
    this.connection.on("reconnecting", () => this.noteRedisAway(new Error("connection to Redis lost")));
    this.connection.on("ready", () => this.onRedisReady());
    this.queue = this.createQueue();
  }

  /** Hands one event over: O(1), synchronous, never touches Redis, never throws because of it. */
  push(event: UsageEvent): void {
    if (this.closed) {
      // After shutdown nothing sends any more: straight to the spool.
      this.spill([{ firstSeq: this.nextSeq++, events: [event] }], "producer already shut down");
      this.held += 1;
      return;
    }
    if (this.held - this.spillingCount >= this.options.bufferSize) this.spillWaiting(`buffer full (${this.options.bufferSize} events)`);
    if (this.buffer.length === 0) this.bufferFirstSeq = this.nextSeq;
    this.buffer.push(event);
    this.nextSeq += 1;
    this.held += 1;
    this.scheduleDrain();
  }

  /** Counters since this producer was created. */
  stats(): ProducerStats {
    return { buffered: this.held, ...this.counters };
  }

  /**
   * Resolves once every event handed over before the call is queued or spooled.
   * Waits for Redis at most `flushTimeoutMs` (plus one send); spools the rest when
   * Redis is away or too slow. Never rejects.
   */
  flush(): Promise<void> {
    recordPendingNow(); // calls that finished but whose events wait for the next turn of the event loop
    const untilSeq = this.nextSeq;
    if (this.lowestUnsettledSeq() >= untilSeq) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ untilSeq, resolve }));
    // A referenced timer: keeps the process alive until the flush is over (our socket is unref'd).
    const deadline = setTimeout(() => this.spillWaiting("flush timed out waiting for Redis"), this.options.flushTimeoutMs);
    // While the first connection is still being made, wait for it (up to the deadline);
    // once Redis has failed us, do not wait on it.
    if (this.redisAway && this.connection.status !== "ready") {
      this.spillWaiting("Redis unreachable at flush");
    } else {
      // Retry now rather than after the current backoff.
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.scheduleDrain();
    }
    return done.finally(() => clearTimeout(deadline));
  }

  /** Flushes, waits for a running spool replay, then closes the queue and the connection. Idempotent. */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.flush();
      await this.replaying;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      await this.spool.close().catch((error: unknown) => this.logger.error({ err: error }, "could not seal the spool file"));
      await this.queue.close().catch(() => {});
      this.connection.disconnect();
    })();
    return this.closing;
  }

  /**
   * Writes everything still in memory to the spool synchronously; for the
   * process 'exit' hook, when no asynchronous work will run any more. Events of
   * a send in progress are written too: if that send did reach Redis, the copy
   * is harmless (the worker keys rows by event id).
   */
  spillSync(reason: string): void {
    const batches = [...this.retrying, ...this.sending, ...this.spilling];
    const events = batches.flatMap((batch) => batch.events).concat(this.buffer);
    if (events.length === 0) return;
    try {
      this.spool.appendSync(events);
      this.counters.spooled += events.length;
      this.logger.warn({ events: events.length, reason, spoolDir: this.spool.dir }, "usage events spooled at exit");
    } catch (error) {
      this.counters.lost += events.length;
      this.logger.error({ err: error, events: events.length, reason }, "usage events lost: spool write failed at exit");
    }
    this.buffer = [];
    this.retrying.length = 0;
    this.held = 0;
  }

  // ---------- sending ----------

  private createQueue(): Queue {
    const queue = quietClosedConnections(new Queue(this.options.queueName, { connection: this.connection, prefix: this.options.queuePrefix }));
    queue.on("error", (error: Error) => this.noteRedisAway(error));
    return queue;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining || this.retryTimer) return;
    this.drainScheduled = true;
    // setImmediate, not a microtask: events pushed by the same burst of calls share a round trip.
    setImmediate(() => {
      this.drainScheduled = false;
      // drain() handles Redis failures itself; a rejection here would be a bug of ours, and
      // must be logged, not left to end the application's process.
      this.drain().catch((error: unknown) => this.logger.error({ err: error }, "usage producer: unexpected error while sending; will retry"));
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.connection.status === "ready" && (this.retrying.length > 0 || this.buffer.length > 0)) {
        const batches = this.takeBatches();
        for (const batch of batches) this.sending.add(batch);
        try {
          await withTimeout(
            this.queue.addBulk(batches.map((batch) => (batch.job ??= usageJob(batch.events)))),
            this.options.sendTimeoutMs,
            "Redis send",
          );
        } catch (error) {
          for (const batch of batches) this.sending.delete(batch);
          this.retrying.unshift(...batches);
          await this.onSendFailed(error);
          return;
        }
        for (const batch of batches) {
          this.sending.delete(batch);
          this.settle(batch.events.length);
          this.counters.queued += batch.events.length;
        }
        this.onSendSucceeded();
      }
      if (this.redisAway && this.connection.status !== "ready" && this.waiters.length > 0) this.spillWaiting("Redis unreachable during flush");
    } finally {
      this.draining = false;
    }
    // Events pushed while the last send was in flight.
    if (this.buffer.length > 0 && this.connection.status === "ready") this.scheduleDrain();
  }

  /** Retried batches first (oldest events), then new events cut into jobs; at most `jobsPerSend` jobs. */
  private takeBatches(): Batch[] {
    const batches = this.retrying.splice(0, this.options.jobsPerSend);
    const room = this.options.jobsPerSend - batches.length;
    if (room > 0 && this.buffer.length > 0) {
      const take = Math.min(this.buffer.length, room * this.options.jobSize);
      const events = take === this.buffer.length ? this.buffer : this.buffer.slice(0, take);
      this.buffer = take === this.buffer.length ? [] : this.buffer.slice(take);
      let seq = this.bufferFirstSeq;
      for (const group of groupEvents(events, this.options.jobSize)) {
        batches.push({ firstSeq: seq, events: group });
        seq += group.length;
      }
      this.bufferFirstSeq = seq;
    }
    return batches;
  }

  private async onSendFailed(error: unknown): Promise<void> {
    this.failures += 1;
    this.noteRedisAway(error);
    if (this.waiters.length > 0) {
      this.spillWaiting("send failed during flush");
      return;
    }
    // A Queue whose start-up failed (Redis dropped between 'ready' and its first command) never recovers: replace it.
    if ((await settledState(this.queue.waitUntilReady())) === "rejected") {
      const broken = this.queue;
      this.queue = this.createQueue();
      void broken.close().catch(() => {});
    }
    const delay = Math.min(100 * 2 ** Math.min(this.failures, 10), this.options.maxRetryDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.scheduleDrain();
    }, delay);
    this.retryTimer.unref();
  }

  private onSendSucceeded(): void {
    if (this.redisAway) this.logger.info({ redis: redactUrl(this.options.redisUrl) }, "Redis reachable again; sending usage events");
    this.redisAway = false;
    this.failures = 0;
  }

  private onRedisReady(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.scheduleDrain();
    this.replaySpool();
  }

  private noteRedisAway(error: unknown): void {
    // A flush waiting on Redis stops waiting as soon as Redis is known to be away.
    if (this.waiters.length > 0 && this.connection.status !== "ready") this.spillWaiting("Redis unreachable during flush");
    if (this.redisAway) return;
    this.redisAway = true;
    // Logged once per outage, not per reconnection attempt; the URL without credentials.
    this.logger.warn(
      { redis: redactUrl(this.options.redisUrl), reason: error instanceof Error ? error.message : String(error), buffered: this.held },
      "Redis unreachable; keeping usage events in memory and retrying",
    );
  }

  // ---------- spilling to the spool ----------

  /** Moves every event not currently being sent to the spool. */
  private spillWaiting(reason: string): void {
    const batches = this.retrying.splice(0);
    if (this.buffer.length > 0) {
      batches.push({ firstSeq: this.bufferFirstSeq, events: this.buffer });
      this.buffer = [];
      this.bufferFirstSeq = this.nextSeq;
    }
    if (batches.length > 0) this.spill(batches, reason);
  }

  private spill(batches: Batch[], reason: string): void {
    const unit: Batch = { firstSeq: Math.min(...batches.map((b) => b.firstSeq)), events: batches.flatMap((b) => b.events) };
    const count = unit.events.length;
    this.spilling.add(unit);
    this.spillingCount += count;
    // Serialising thousands of events takes milliseconds: start it on the next
    // turn of the event loop, not on the call that overflowed the buffer. (The
    // exit hook writes `spilling` events synchronously if the process ends first.)
    new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.spool.append(unit.events)).then(
      () => {
        this.counters.spooled += count;
        this.logger.warn({ events: count, reason, spoolDir: this.spool.dir }, "usage events spooled");
        if (this.connection.status === "ready" && !this.closed) this.replaySpool();
      },
      (error: unknown) => {
        this.counters.lost += count;
        this.logger.error({ err: error, events: count, reason, spoolDir: this.spool.dir }, "usage events lost: spool write failed");
      },
    ).finally(() => {
      this.spilling.delete(unit);
      this.spillingCount -= count;
      this.settle(count);
    });
  }

  // ---------- replaying the spool ----------

  /** Replays spool files (ours once sealed, and any dead process's) in the background; one run at a time. */
  private replaySpool(): void {
    if (this.replaying) {
      this.replayAgain = true;
      return;
    }
    this.replaying = (async () => {
      do {
        this.replayAgain = false;
        try {
          await this.spool.seal();
          const result = await replaySpoolFiles(this.spool, this.queue, this.options.jobSize, this.options.sendTimeoutMs);
          this.counters.replayed += result.replayed;
          this.counters.lost += result.badLines;
          if (result.replayed > 0) this.logger.info({ events: result.replayed, files: result.files }, "spooled usage events replayed");
          if (result.badLines > 0) this.logger.error({ lines: result.badLines }, "usage events lost: unreadable spool lines");
        } catch (error) {
          this.noteRedisAway(error);
        }
      } while (this.replayAgain && this.connection.status === "ready");
    })().finally(() => {
      this.replaying = undefined;
    });
  }

  // ---------- flush bookkeeping ----------

  private settle(count: number): void {
    this.held -= count;
    if (this.waiters.length === 0) return;
    const lowest = this.lowestUnsettledSeq();
    this.waiters = this.waiters.filter((waiter) => {
      if (lowest < waiter.untilSeq) return true;
      waiter.resolve();
      return false;
    });
  }

  private lowestUnsettledSeq(): number {
    let lowest = this.buffer.length > 0 ? this.bufferFirstSeq : this.nextSeq;
    for (const batch of this.retrying) lowest = Math.min(lowest, batch.firstSeq);
    for (const batch of this.sending) lowest = Math.min(lowest, batch.firstSeq);
    for (const batch of this.spilling) lowest = Math.min(lowest, batch.firstSeq);
    return lowest;
  }
}

export interface ReplayResult {
  files: number;
  replayed: number;
  badLines: number;
}

/**
 * Claims spool files one by one and queues their events in groups of `jobSize`.
 * A file is deleted only after all its events are queued; on failure it is
 * released for a later replay and the error is thrown.
 */
export async function replaySpoolFiles(spool: Spool, queue: Queue, jobSize: number, sendTimeoutMs = 30_000): Promise<ReplayResult> {
  const result: ReplayResult = { files: 0, replayed: 0, badLines: 0 };
  for (let file = await spool.claimNext(); file; file = await spool.claimNext()) {
    await sendClaimed(spool, file, queue, jobSize, sendTimeoutMs);
    result.files += 1;
    result.replayed += file.events.length;
    result.badLines += file.badLines;
  }
  return result;
}

async function sendClaimed(spool: Spool, file: ClaimedSpoolFile, queue: Queue, jobSize: number, sendTimeoutMs: number): Promise<void> {
  try {
    const jobs = groupEvents(file.events, jobSize).map(usageJob);
    for (let start = 0; start < jobs.length; start += 50) {
      await withTimeout(queue.addBulk(jobs.slice(start, start + 50)), sendTimeoutMs, "Redis send");
    }
  } catch (error) {
    await spool.release(file).catch(() => {});
    throw error;
  }
  await spool.complete(file);
}

async function settledState(promise: Promise<unknown>): Promise<"fulfilled" | "rejected" | "pending"> {
  return Promise.race([
    promise.then(
      () => "fulfilled" as const,
      () => "rejected" as const,
    ),
    new Promise<"pending">((resolve) => setImmediate(() => resolve("pending"))),
  ]);
}
