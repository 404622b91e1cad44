// The usage table. Columns beyond the contract's are nullable or defaulted, so
// rows carrying only the contract's columns (for example data migrated from
// the original Python service) are accepted.
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const llmTrackerUsage = pgTable(
  "llm_tracker_usage",
  {
    id: uuid("id").primaryKey(),
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
  },
  (table) => [
    index("llm_tracker_usage_created_at_idx").on(table.createdAt),
    index("llm_tracker_usage_user_id_created_at_idx").on(table.userId, table.createdAt),
    index("llm_tracker_usage_model_created_at_idx").on(table.model, table.createdAt),
  ],
);

export type UsageRow = typeof llmTrackerUsage.$inferSelect;
export type NewUsageRow = typeof llmTrackerUsage.$inferInsert;
