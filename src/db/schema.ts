// The usage table. Columns beyond the contract's are nullable or defaulted, so
// rows carrying only the contract's columns (for example data migrated from
// the original Python service) are accepted.
//
// In the database the table is partitioned by UTC day of created_at
// (drizzle/0007, written by hand): drizzle-kit cannot express that, so this
// file declares the columns, keys and indexes only, and `drizzle-kit push`
// must never run against the database (docs/scaling.md).
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const llmTrackerUsage = pgTable(
  "llm_tracker_usage",
  {
    /** The event id, made once by the producer; with created_at, the primary key. */
    id: uuid("id").notNull(),
    userId: text("user_id"),
    model: text("model").notNull().default("unknown"),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    totalTokens: integer("total_tokens").notNull().default(0),
    cachedTokens: integer("cached_tokens").notNull().default(0),
    reasoningTokens: integer("reasoning_tokens").notNull().default(0),
    success: boolean("success").notNull().default(true),
    error: text("error"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /** When the call happened. */
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    // --- added by llm-tracker beyond the contract ---
    provider: text("provider"),
    deployment: text("deployment"),
    latencyMs: integer("latency_ms"),
    /** false when the provider reported no usage and the counts are zeros; null for rows from elsewhere. */
    usageReported: boolean("usage_reported"),
    /** When the worker wrote the row. */
    insertedAt: timestamp("inserted_at", { withTimezone: true }).notNull().defaultNow(),
    /** Exact USD cost from the price table named by `price_version`; null when the model has no price. */
    costUsd: numeric("cost_usd", { precision: 20, scale: 10 }),
    priceVersion: text("price_version"),
    /** true when the answer was streamed (streamAndTrack, a wrapped SDK stream). */
    streamed: boolean("streamed").notNull().default(false),
    /** Milliseconds from the call to its first text or tool-call delta; null when not streamed (or no delta arrived). */
    timeToFirstTokenMs: integer("time_to_first_token_ms"),
    /** What was asked of the provider: `chat`, `embeddings`, … Rows written before this column are chats. */
    operation: text("operation").notNull().default("chat"),
  },
  (table) => [
    // A partitioned table's keys must contain its partition key; created_at travels
    // with the event, so (created_at, id) is as much the event's identity as id.
    primaryKey({ name: "llm_tracker_usage_pkey", columns: [table.createdAt, table.id] }),
    index("llm_tracker_usage_created_at_idx").on(table.createdAt),
    index("llm_tracker_usage_user_id_created_at_idx").on(table.userId, table.createdAt),
    index("llm_tracker_usage_model_created_at_idx").on(table.model, table.createdAt),
    // getRecentFailures: the newest failed calls, read backwards in index order without touching successful rows.
    index("llm_tracker_usage_failed_created_at_idx").on(table.createdAt, table.id).where(sql`NOT success`),
  ],
);

export type UsageRow = typeof llmTrackerUsage.$inferSelect;
export type NewUsageRow = typeof llmTrackerUsage.$inferInsert;

/**
 * Running totals per time bucket and per model / user / node, kept exact by
 * statement-level triggers on llm_tracker_usage (see the rollup migrations):
 * every insert, update and delete of usage rows — by the worker or by anyone
 * else — adjusts them in the same transaction, so they never drift from the
 * raw rows. The stats read whole buckets from here and the edges of a range
 * from the raw table.
 */
export const llmTrackerUsageRollup = pgTable(
  "llm_tracker_usage_rollup",
  {
    /** `five_minutes`, `half_hour` (drizzle/0009; model, node and total only), `hour` or `day`, buckets aligned in UTC. */
    grain: text("grain").notNull(),
    /** `model`, `user`, `node`, or `total` (key '': every call of the bucket). */
    dimension: text("dimension").notNull(),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    /** true for rows whose user_id / node_name is null (then `key` is ''). */
    keyIsNull: boolean("key_is_null").notNull(),
    key: text("key").notNull(),
    calls: bigint("calls", { mode: "number" }).notNull(),
    successfulCalls: bigint("successful_calls", { mode: "number" }).notNull(),
    promptTokens: bigint("prompt_tokens", { mode: "number" }).notNull(),
    completionTokens: bigint("completion_tokens", { mode: "number" }).notNull(),
    totalTokens: bigint("total_tokens", { mode: "number" }).notNull(),
    cachedTokens: bigint("cached_tokens", { mode: "number" }).notNull(),
    reasoningTokens: bigint("reasoning_tokens", { mode: "number" }).notNull(),
    costUsd: numeric("cost_usd", { precision: 30, scale: 10 }).notNull(),
    unpricedCalls: bigint("unpriced_calls", { mode: "number" }).notNull(),
    /** Sum of latency_ms over the calls that have one, and how many those are (averages come from these). */
    latencyMsSum: bigint("latency_ms_sum", { mode: "number" }).notNull().default(0),
    latencyCalls: bigint("latency_calls", { mode: "number" }).notNull().default(0),
    /** Sum of time_to_first_token_ms over the calls that have one (streamed calls), and how many those are. */
    ttftMsSum: bigint("ttft_ms_sum", { mode: "number" }).notNull().default(0),
    ttftCalls: bigint("ttft_calls", { mode: "number" }).notNull().default(0),
    /**
     * true for a row the compaction wrote: the only row of its key in its bucket
     * unless partial sums were appended since (those are false). A bucket whose
     * rows are all compacted holds one row per key, so its keys can be ranked
     * by reading an index in order (the top-N users / nodes).
     */
    compacted: boolean("compacted").notNull().default(false),
  },
  // Not unique: the triggers only ever append per-statement partial sums (no
  // hot-row updates), the stats sum whatever rows a key has, and the worker
  // periodically merges each key's rows into one (llm_tracker_usage_rollup_compact).
  (table) => [
    index("llm_tracker_usage_rollup_key_idx").on(table.grain, table.dimension, table.bucket, table.keyIsNull, table.key),
    // One key's buckets over a range: a filter on one user / node / model, and the exact totals of top-N candidates.
    index("llm_tracker_usage_rollup_by_key_idx").on(table.grain, table.dimension, table.keyIsNull, table.key, table.bucket),
    // A compacted bucket's keys by tokens, largest first: the top-N search reads only the head of each bucket.
    index("llm_tracker_usage_rollup_top_idx")
      .on(table.grain, table.dimension, table.bucket, table.totalTokens.desc(), table.keyIsNull, table.key)
      .where(sql`compacted`),
    // What the compaction has yet to merge, and the keys a top-N search must read beside a bucket's head.
    index("llm_tracker_usage_rollup_pending_idx").on(table.grain, table.dimension, table.bucket).where(sql`NOT compacted`),
  ],
);

export type UsageRollupRow = typeof llmTrackerUsageRollup.$inferSelect;
