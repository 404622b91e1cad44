// Gathers the events of many queue jobs into one batch, writes it with one
// INSERT, and tells each job when its rows are committed. A database that is
// away is retried with capped backoff; a row Postgres refuses is isolated by
// bisecting the batch, so the rest of the batch still commits.
import type { Sql } from "postgres";
import type { CommittedInsert } from "../src/budgets/spend-ledger.js";
import { insertUsageRows, type UsageRow } from "./insert-usage-rows.js";
import type { Logger } from "../src/logger.js";
import { classifyWriteError, describeWriteError } from "./write-error-kind.js";
import type { WorkerObserver } from "./worker-observer.js";

export interface RejectedEvent {
  eventId: string | null;
  reason: string;
}

export interface WriteOutcome {
  /** Events Postgres refused even alone; every other event of the job is committed. */
  rejected: RejectedEvent[];
}

export interface BatchWriterOptions {
  sql: Sql;
  batchSize: number;
  flushMs: number;
  /**
   * The BullMQ concurrency: once this many jobs wait on the batch no more can
   * arrive, so the batch is written without waiting for flushMs.
   */
  maxJobs: number;
  logger: Logger;
  observer: WorkerObserver | undefined;
  /** First retry delay after a failed write. Default 100 ms. */
  retryInitialMs?: number;
  /** Longest retry delay. Default 5000 ms. */
  retryMaxMs?: number;
  /**
   * Told the new rows of each committed INSERT (budgets' spend), before the batch's jobs are
   * acknowledged; must not reject. Default: none (the INSERT returns no rows).
   */
  committed?: (insert: CommittedInsert) => Promise<void>;
  /**
   * An INSERT failed and is retried: it may have committed before the failure reached us
   * (the connection cut after COMMIT), and then its retry returns none of its rows.
   */
  uncertain?: () => void;
}

interface Entry {
  events: UsageRow[];
  jobId: string | undefined;
  arrivedAt: number;
  rejected: RejectedEvent[];
  resolve(outcome: WriteOutcome): void;
  reject(error: Error): void;
}

interface Item {
  event: UsageRow;
  entry: Entry;
}

/** Ends the retry loop of a batch after abort(); never reaches a job. */
class WriterAborted extends Error {
  constructor() {
    super("llm-tracker worker: shut down before these events were written; the job will be redelivered");
    this.name = "WriterAborted";
  }
}

export class BatchWriter {
  private readonly pending: Entry[] = [];
  private pendingEvents = 0;
  private writing = false;
  private writingEvents = 0;
  private inFlight: Entry[] = [];
  private draining = false;
  private aborted = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeSleeper: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private commits: CommittedInsert[] = [];

  constructor(private readonly options: BatchWriterOptions) {}

  /** Events handed over but not yet committed. */
  get heldEvents(): number {
    return this.pendingEvents + this.writingEvents;
  }

  /**
   * Adds a job's events to the next batch; resolves once they are committed
   * (or refused as poison). A database outage is waited out; after abort() the
   * promise never settles (see abort()).
   */
  write(events: UsageRow[], jobId: string | undefined): Promise<WriteOutcome> {
    if (this.aborted) return new Promise(() => {}); // never settles: see abort()
    return new Promise((resolve, reject) => {
      this.pending.push({ events, jobId, arrivedAt: Date.now(), rejected: [], resolve, reject });
      this.pendingEvents += events.length;
      this.schedule();
    });
  }

  /** From now on writes whatever arrives at once (shutdown); resolves when nothing is held. */
  drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Gives up on what is held (shutdown deadline): the held events are dropped
   * from memory, unwritten and unacknowledged, so BullMQ redelivers their jobs.
   */
  abort(): void {
    this.aborted = true;
    if (this.timer) clearTimeout(this.timer);
    this.wakeSleeper?.();
    // The held jobs' promises are left unsettled on purpose: a job that
    // settles is acknowledged or failed in Redis, and these must be neither —
    // their locks lapse and BullMQ redelivers them. (Rejecting them after the
    // Redis connection was cut also sent BullMQ into a tight retry loop that
    // starved the shutdown timers.)
    this.pending.splice(0);
    this.inFlight = [];
    this.pendingEvents = 0;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private schedule(): void {
    if (this.writing || this.aborted || this.pending.length === 0) return;
    const dueIn = this.pending[0]!.arrivedAt + this.options.flushMs - Date.now();
    const slotsAllWaiting = this.pending.length >= this.options.maxJobs;
    if (this.draining || slotsAllWaiting || this.pendingEvents >= this.options.batchSize || dueIn <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.writeNextBatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, dueIn);
    }
  }

  /**
   * Takes whole jobs up to batchSize events (always at least one job) and writes them.
   * Never rejects: it runs un-awaited (from schedule()), where a rejection would end the process.
   */
  private async writeNextBatch(): Promise<void> {
    this.writing = true;
    const entries: Entry[] = [];
    let count = 0;
    while (this.pending.length > 0 && (entries.length === 0 || count + this.pending[0]!.events.length <= this.options.batchSize)) {
      const entry = this.pending.shift()!;
      entries.push(entry);
      count += entry.events.length;
    }
    this.pendingEvents -= count;
    this.writingEvents = count;
    this.inFlight = entries;
    const items: Item[] = entries.flatMap((entry) => entry.events.map((event) => ({ event, entry })));
    const started = performance.now();
    try {
      const inserted = await this.insertIsolating(items);
      const durationMs = performance.now() - started;
      const committed = this.options.committed;
      if (committed) for (const insert of this.commits.splice(0)) await committed(insert);
      this.options.observer?.batchWritten?.({ events: items.length, inserted, durationMs });
      this.options.logger.debug({ jobs: entries.length, events: items.length, inserted, durationMs: Math.round(durationMs) }, "batch written");
      for (const entry of entries) entry.resolve({ rejected: entry.rejected });
    } catch (error) {
      // abort() ends the retry loop and leaves its jobs unanswered on purpose (see abort()).
      // Anything else is a bug of ours: fail these jobs (BullMQ retries them; rows already
      // written are skipped by their id) rather than leave them hanging or crash the host.
      if (!(error instanceof WriterAborted)) {
        this.options.logger.error({ error: describeWriteError(error), events: items.length }, "batch write failed unexpectedly; its jobs are failed for a retry");
        for (const entry of entries) entry.reject(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      this.commits = [];
      this.writing = false;
      this.writingEvents = 0;
      this.inFlight = [];
    }
    if (this.pending.length === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
    this.schedule();
  }

  /** Inserts the items; on a data error splits them in halves until each refused event stands alone. */
  private async insertIsolating(items: Item[]): Promise<number> {
    try {
      return await this.insertRetrying(items);
    } catch (error) {
      if (error instanceof WriterAborted || classifyWriteError(error) !== "data") throw error;
      if (items.length === 1) {
        const { event, entry } = items[0]!;
        const reason = `rejected by Postgres: ${describeWriteError(error)}`;
        entry.rejected.push({ eventId: event.id, reason });
        this.options.observer?.poison?.({ eventId: event.id, jobId: entry.jobId, reason });
        this.options.logger.warn({ eventId: event.id, jobId: entry.jobId, reason }, "poison event isolated");
        return 0;
      }
      const middle = Math.ceil(items.length / 2);
      return (await this.insertIsolating(items.slice(0, middle))) + (await this.insertIsolating(items.slice(middle)));
    }
  }

  /** Retries transient (and unexplained) failures with capped exponential backoff until they pass or abort() is called. */
  private async insertRetrying(items: Item[]): Promise<number> {
    const initial = this.options.retryInitialMs ?? 100;
    const max = this.options.retryMaxMs ?? 5_000;
    for (let attempt = 1; ; attempt += 1) {
      if (this.aborted) throw new WriterAborted();
      try {
        const result = await insertUsageRows(this.options.sql, items.map((item) => item.event), { returnCosts: this.options.committed !== undefined });
        if (result.committed) this.commits.push(result.committed);
        return result.inserted;
      } catch (error) {
        const kind = classifyWriteError(error);
        if (kind === "data") throw error;
        this.options.uncertain?.();
        // Jitter spreads the reconnects of several workers after a restart.
        const delayMs = Math.round(Math.min(max, initial * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5));
        const reason = describeWriteError(error);
        this.options.observer?.retry?.({ attempt, delayMs, error: reason });
        const log = kind === "transient" ? this.options.logger.warn : this.options.logger.error;
        log.call(this.options.logger, { attempt, delayMs, events: items.length, error: reason, kind }, "batch write failed; retrying");
        await this.sleep(delayMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }
}
