// The worker's Prometheus metrics: counters the worker moves through an observer,
// and gauges (queue depth, spool size) read at scrape time, each bounded in time.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BudgetStatus } from "../budgets/budget-status.js";
import { withTimeout } from "../with-timeout.js";

/**
 * What the worker reports as it goes; every callback is optional and must not throw.
 * Declared here structurally so this module does not depend on the worker's internals.
 */
export interface WorkerObserver {
  /** One INSERT finished: `events` offered (a count or the events themselves), `inserted` new rows. */
  batchWritten?(info: { events: number | readonly unknown[]; inserted: number; durationMs: number }): void;
  /** An INSERT failed and will be tried again after `delayMs`. */
  retry?(info: { attempt: number; delayMs: number; error: unknown }): void;
  /** An event that can never be written (invalid, rejected by Postgres) was set aside. */
  poison?(info: { eventId?: string | null | undefined; jobId?: string | undefined; reason: string }): void;
  /** Events written without a price (their model is not in the price table). */
  unpriced?(info: { events: number }): void;
}

/** The queue's job counts; a BullMQ `Queue` fits. The caller owns it and closes it. */
export interface JobCountSource {
  getJobCounts(...types: QueueState[]): Promise<{ [state: string]: number }>;
}

export const QUEUE_STATES = ["waiting", "active", "failed", "delayed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export interface WorkerMetricsOptions {
  /** Where queue depth is read at scrape time. Default: none (the queue gauges stay empty, `llm_tracker_queue_up` 0). */
  queue?: JobCountSource;
  /** Directory whose total file size is `llm_tracker_spool_bytes`. Default: none (gauge reads 0). */
  spoolDir?: string;
  /** Longest wait for the queue counts during a scrape, in ms, so a scrape never hangs while Redis is away. Default 1000. */
  queueTimeoutMs?: number;
  /**
   * Reads the budgets' spend and the app processes' budget counters at scrape time (see
   * src/budgets). Default: none (no budget gauges).
   */
  budgets?: () => Promise<{ statuses: BudgetStatus[]; counters: Record<string, string> }>;
  /** Also export the process and Node.js default metrics (`process_*`, `nodejs_*`). Default true. */
  defaultMetrics?: boolean;
}

export interface WorkerMetrics {
  /** A registry of its own (never prom-client's global one), for `/metrics`. */
  registry: Registry;
  /** Hand this to the worker; each callback moves the matching metrics. */
  observer: Required<WorkerObserver>;
}

const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000];
const INSERT_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createWorkerMetrics(options: WorkerMetricsOptions = {}): WorkerMetrics {
  const { queue, spoolDir, queueTimeoutMs = 1_000, defaultMetrics = true } = options;
  const registry = new Registry();
  const registers = [registry];

  const eventsWritten = new Counter({
    name: "llm_tracker_events_written_total",
    help: "Usage events written to Postgres as new rows.",
    registers,
  });
  const duplicates = new Counter({
    name: "llm_tracker_duplicate_events_total",
    help: "Usage events already in Postgres (redelivered jobs); skipped by their primary key.",
    registers,
  });
  const batches = new Counter({ name: "llm_tracker_batches_total", help: "INSERT batches written.", registers });
  const batchSize = new Histogram({
    name: "llm_tracker_batch_size",
    help: "Events per INSERT batch.",
    buckets: BATCH_SIZE_BUCKETS,
    registers,
  });
  const insertSeconds = new Histogram({
    name: "llm_tracker_insert_duration_seconds",
    help: "Time one INSERT batch took, in seconds.",
    buckets: INSERT_SECONDS_BUCKETS,
    registers,
  });
  const poison = new Counter({
    name: "llm_tracker_poison_events_total",
    help: "Usage events that can never be written and were set aside.",
    registers,
  });
  const unpriced = new Counter({
    name: "llm_tracker_unpriced_events_total",
    help: "Usage events written with cost_usd null: their model has no price (add it, then recomputeCosts).",
    registers,
  });
  const retries = new Counter({
    name: "llm_tracker_insert_retries_total",
    help: "INSERT attempts that failed and were retried.",
    registers,
  });

  // Both queue gauges report one read per scrape: the registry collects every metric at
  // once, so the second collect() joins the read the first one started.
  let pendingRead: Promise<{ [state: string]: number } | undefined> | undefined;
  const readQueue = () =>
    (pendingRead ??= (queue ? withTimeout(queue.getJobCounts(...QUEUE_STATES), queueTimeoutMs) : Promise.reject(new Error("no queue")))
      .catch(() => undefined)
      .finally(() => {
        pendingRead = undefined;
      }));
  new Gauge({
    name: "llm_tracker_queue_up",
    help: "1 when the queue counts were read from Redis during this scrape, 0 otherwise.",
    registers,
    async collect() {
      this.set((await readQueue()) ? 1 : 0);
    },
  });
  new Gauge({
    name: "llm_tracker_queue_jobs",
    help: "Jobs in the usage queue by state, read at scrape time (each job holds up to LLM_TRACKER_JOB_SIZE events).",
    labelNames: ["state"],
    registers,
    async collect() {
      const counts = await readQueue();
      // Stale numbers would look healthy while Redis is away, so a failed read clears them.
      this.reset();
      if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: "llm_tracker_spool_bytes",
    help: "Bytes of usage events waiting in the spool directory for Redis, read at scrape time.",
    registers,
    async collect() {
      this.set(spoolDir ? await directoryBytes(spoolDir) : 0);
    },
  });

  if (options.budgets) addBudgetGauges(registry, options.budgets, queueTimeoutMs);

  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  const observer: Required<WorkerObserver> = {
    batchWritten({ events, inserted, durationMs }) {
      const offered = typeof events === "number" ? events : events.length;
      eventsWritten.inc(inserted);
      duplicates.inc(Math.max(0, offered - inserted));
      batches.inc();
      batchSize.observe(offered);
      insertSeconds.observe(durationMs / 1_000);
    },
    retry() {
      retries.inc();
    },
    poison() {
      poison.inc();
    },
    unpriced({ events }) {
      unpriced.inc(events);
    },
  };

  return { registry, observer };
}

/** A budget over every user / node shows its most-spent keys only: one series per user would swamp Prometheus. */
const BUDGET_KEYS_SHOWN = 20;
const BUDGET_LABELS = ["scope", "key", "period", "time_zone"] as const;

function addBudgetGauges(registry: Registry, read: NonNullable<WorkerMetricsOptions["budgets"]>, timeoutMs: number): void {
  const registers = [registry];
  let pending: Promise<{ statuses: BudgetStatus[]; counters: Record<string, string> } | undefined> | undefined;
  const readOnce = () =>
    (pending ??= withTimeout(read(), timeoutMs)
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
      }));
  const shown = (statuses: BudgetStatus[]) => {
    const perBudget = new Map<string, number>();
    return statuses.filter((s) => {
      const id = `${s.scope}|${s.period}|${s.time_zone}|${s.limit_usd}`;
      const n = perBudget.get(id) ?? 0;
      perBudget.set(id, n + 1);
      return n < BUDGET_KEYS_SHOWN;
    });
  };
  const labels = (s: BudgetStatus) => ({ scope: s.scope, key: s.key ?? "", period: s.period, time_zone: s.time_zone });
  const statusGauge = (name: string, help: string, pick: (s: BudgetStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: BUDGET_LABELS,
      registers,
      async collect() {
        const read = await readOnce();
        this.reset(); // stale spend would look right while Redis is away
        if (read) for (const s of shown(read.statuses)) this.set(labels(s), pick(s));
      },
    });
  statusGauge("llm_tracker_budget_limit_usd", "Each budget's limit in USD (a budget over every user / node: its 20 most-spent keys).", (s) => s.limit_usd);
  statusGauge("llm_tracker_budget_spent_usd", "What each budget's scope has spent in its current period, in USD, from the rows committed.", (s) => s.spent_usd);
  statusGauge("llm_tracker_budget_remaining_usd", "Each budget's limit minus its spend, at least 0, in USD.", (s) => s.remaining_usd);
  new Gauge({
    name: "llm_tracker_budget_refusals",
    help: "Calls the app processes refused with BudgetExceededError, by budget (key * = every user / node), as they reported them to Redis.",
    labelNames: BUDGET_LABELS,
    registers,
    async collect() {
      const read = await readOnce();
      this.reset();
      if (!read) return;
      for (const [field, value] of Object.entries(read.counters)) {
        const [kind, scope, key, period, timeZone] = field.split("|");
        if (kind === "refusals" && scope && key !== undefined && period && timeZone) this.set({ scope, key, period, time_zone: timeZone }, Number(value));
      }
    },
  });
  new Gauge({
    name: "llm_tracker_budget_check_failures",
    help: "Budget checks in the app processes that could not read Redis (the calls were allowed), as they reported them once Redis answered.",
    registers,
    async collect() {
      const read = await readOnce();
      this.set(Number(read?.counters.check_failures ?? 0));
    },
  });
}

/** Total size of the files under `dir`; 0 when it does not exist (nothing spooled yet). */
async function directoryBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    // Files may be sent and removed between readdir and stat; a vanished file counts 0.
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += await stat(path).then((s) => s.size, () => 0);
  }
  return total;
}
