// The price table: LiteLLM's `model_prices_and_context_window.json` field names,
// the shipped data, and how a user's table is read and merged over it.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../errors/config-error.js";
import shipped from "./prices/prices.json" with { type: "json" };
import { parseDecimal } from "./decimal.js";

/** A price per token in USD: a JSON number or a decimal string (strings keep any precision up to 1e-24). */
export type PriceValue = number | string;

/**
 * One model's prices, in LiteLLM's field names. Only the fields below are read;
 * any other LiteLLM field (`max_tokens`, `supports_*`, …) is kept and ignored.
 * Long-context tiers follow LiteLLM's `<field>_above_<N>k_tokens` pattern
 * (for example `input_cost_per_token_above_200k_tokens`).
 */
export interface PriceEntry {
  litellm_provider?: string;
  mode?: string;
  input_cost_per_token?: PriceValue;
  output_cost_per_token?: PriceValue;
  /** Price of a prompt token served from cache; when absent, cached tokens are billed at `input_cost_per_token`. */
  cache_read_input_token_cost?: PriceValue;
  /** Price of a reasoning ("thinking") token; when absent, reasoning tokens are billed at `output_cost_per_token`. */
  output_cost_per_reasoning_token?: PriceValue;
  [field: string]: unknown;
}

/** A whole table: where it came from, when, and the entries by LiteLLM model key. */
export interface PriceTable {
  /** The date the prices were taken (shipped table) or the user's own label. */
  version: string;
  source: string;
  models: Record<string, PriceEntry>;
}

/**
 * Field-level override of one model: each field named replaces ours, `null`
 * removes our field (for example `"cache_read_input_token_cost": null`).
 */
export type PriceEntryOverride = Record<string, unknown>;

/** Model key → override, the shape of `LLM_TRACKER_PRICES` files and of code overrides. */
export type PriceOverrides = Record<string, PriceEntryOverride>;

export const PRICE_FIELDS = [
  "input_cost_per_token",
  "output_cost_per_token",
  "cache_read_input_token_cost",
  "output_cost_per_reasoning_token",
] as const;

const TIERED_FIELD = /^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|output_cost_per_reasoning_token)_above_(\d+)k_tokens$/;

const isPriceField = (field: string) => (PRICE_FIELDS as readonly string[]).includes(field) || TIERED_FIELD.test(field);

const priceValue = z.union([z.number(), z.string()]).refine((v) => parseDecimal(v) !== undefined, "must be a non-negative decimal with at most 24 decimals");

const overrideSchema = z.record(z.string(), z.unknown()).superRefine((entry, ctx) => {
  for (const [field, value] of Object.entries(entry)) {
    if (!isPriceField(field) || value === null) continue;
    if (!priceValue.safeParse(value).success) {
      ctx.addIssue({ code: "custom", path: [field], message: "must be a non-negative decimal (number or string) with at most 24 decimals" });
    }
  }
});

const overridesSchema = z.record(z.string().min(1), overrideSchema);

/** The table shipped with the package (see `src/cost/prices/SOURCES.md`). */
export function shippedPriceTable(): PriceTable {
  return shipped as PriceTable;
}

/**
 * Checks a set of overrides (model key → fields) and returns them typed; throws
 * ConfigError naming `key` and the bad field (never a value) when a price is invalid.
 */
export function parsePriceOverrides(key: string, value: unknown): PriceOverrides {
  const result = overridesSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue && issue.path.length > 0 ? `${key}.${issue.path.join(".")}` : key;
    throw new ConfigError(path, `is invalid (${issue?.message ?? "bad value"})`);
  }
  return result.data;
}

/**
 * Reads a price file: either our shape `{ version, source, models: {...} }` or
 * LiteLLM's flat file (model key → entry, its `sample_spec` skipped), so a copy
 * of LiteLLM's own JSON can be used as is.
 */
export function readPriceFile(path: string, key = "LLM_TRACKER_PRICES"): PriceOverrides {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "not valid JSON";
    throw new ConfigError(key, `can not be read as a price file (${reason})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ConfigError(key, "must hold a JSON object");
  const record = parsed as Record<string, unknown>;
  const models = typeof record.models === "object" && record.models !== null && !Array.isArray(record.models) ? record.models : record;
  const entries = Object.fromEntries(
    Object.entries(models as Record<string, unknown>).filter(([name, entry]) => name !== "sample_spec" && typeof entry === "object" && entry !== null),
  );
  return parsePriceOverrides(key, entries);
}

/**
 * Merges overrides over a table, field by field: a field named in the override
 * replaces ours, `null` removes it, fields not named keep our value; a model we
 * do not ship is added as given.
 */
export function mergePrices(models: Record<string, PriceEntry>, overrides: PriceOverrides): Record<string, PriceEntry> {
  const merged: Record<string, PriceEntry> = { ...models };
  for (const [name, override] of Object.entries(overrides)) {
    const entry: PriceEntry = { ...(merged[name] ?? {}) };
    for (const [field, value] of Object.entries(override)) {
      if (value === null) delete entry[field];
      else entry[field] = value;
    }
    merged[name] = entry;
  }
  return merged;
}
