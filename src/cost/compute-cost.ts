// Prices one call's token counts against one price entry, exactly: the
// provider's billing rules (cache discount, reasoning rate, long-context tier).
import { formatExact, formatRounded, parseDecimal } from "./decimal.js";
import type { PriceEntry } from "./price-table.js";

/** The token counts of one call, as in the usage event (`cached` ⊆ prompt, `reasoning` ⊆ completion). */
export interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
}

/** The per-token prices that applied to one call, in 1e-24 USD units. */
export interface AppliedPrices {
  input: bigint;
  cacheRead: bigint;
  output: bigint;
  reasoning: bigint;
  /** The long-context tier used, e.g. 200000 for the `_above_200k_tokens` prices; null for base prices. */
  tierAboveTokens: number | null;
}

export interface CallCost {
  /** The exact cost in USD, as a decimal string without rounding. */
  exactUsd: string;
  /** The cost rounded half-up to 10 decimals, for a `numeric(20,10)` column. */
  costUsd: string;
  prices: AppliedPrices;
}

const TIER = /^(.+)_above_(\d+)k_tokens$/;

function price(entry: PriceEntry, field: string): bigint | undefined {
  const value = entry[field];
  return typeof value === "number" || typeof value === "string" ? parseDecimal(value) : undefined;
}

/** Tier thresholds named in the entry (in tokens), e.g. [200000] for `*_above_200k_tokens`. */
function tierThresholds(entry: PriceEntry): number[] {
  const thresholds = new Set<number>();
  for (const field of Object.keys(entry)) {
    const match = TIER.exec(field);
    if (match && price(entry, field) !== undefined) thresholds.add(Number(match[2]) * 1000);
  }
  return [...thresholds].sort((a, b) => a - b);
}

/**
 * The prices that apply to a call with `promptTokens` prompt tokens: the highest
 * tier whose threshold the prompt exceeds prices the whole call (as Gemini
 * bills: a 250k-token prompt pays the >200k rate on every token, output included).
 * Returns undefined when the entry lacks an input or output price.
 */
export function applicablePrices(entry: PriceEntry, promptTokens: number): AppliedPrices | undefined {
  const tier = tierThresholds(entry).filter((threshold) => promptTokens > threshold).at(-1) ?? null;
  const at = (field: string) => (tier === null ? undefined : price(entry, `${field}_above_${tier / 1000}k_tokens`));
  const tierOutput = at("output_cost_per_token");
  const input = at("input_cost_per_token") ?? price(entry, "input_cost_per_token");
  const output = tierOutput ?? price(entry, "output_cost_per_token");
  if (input === undefined || output === undefined) return undefined;
  // No cache-read price: the provider bills cached tokens like any prompt token.
  const cacheRead = at("cache_read_input_token_cost") ?? price(entry, "cache_read_input_token_cost") ?? input;
  // A tiered output price with no tiered reasoning price applies to reasoning too.
  const reasoning = at("output_cost_per_reasoning_token") ?? (tierOutput !== undefined ? tierOutput : price(entry, "output_cost_per_reasoning_token") ?? output);
  return { input, cacheRead, output, reasoning, tierAboveTokens: tier };
}

/**
 * The cost of one call: uncached prompt × input + cached × cache-read +
 * (completion − reasoning) × output + reasoning × reasoning price. Counts that
 * break the subset invariants are clamped (cached ≤ prompt, reasoning ≤ completion).
 * Returns undefined when the entry has no usable input/output price.
 */
export function computeCost(entry: PriceEntry, counts: TokenCounts): CallCost | undefined {
  const prices = applicablePrices(entry, counts.prompt_tokens);
  if (!prices) return undefined;
  const prompt = BigInt(counts.prompt_tokens);
  const completion = BigInt(counts.completion_tokens);
  const cached = BigInt(Math.min(counts.cached_tokens, counts.prompt_tokens));
  const reasoning = BigInt(Math.min(counts.reasoning_tokens, counts.completion_tokens));
  const units =
    (prompt - cached) * prices.input + cached * prices.cacheRead + (completion - reasoning) * prices.output + reasoning * prices.reasoning;
  return { exactUsd: formatExact(units), costUsd: formatRounded(units), prices };
}
