// The price book the worker uses: shipped prices + the user's price file +
// code overrides + the Azure deployment map, and `priceEvent()` on top.
import { createHash } from "node:crypto";
import { getTrackerSettings, onConfigurationChange } from "../config/settings.js";
import { computeCost, type CallCost, type TokenCounts } from "./compute-cost.js";
import { mergePrices, parsePriceOverrides, readPriceFile, shippedPriceTable, type PriceEntry, type PriceOverrides } from "./price-table.js";
import { resolvePriceKey, type ModelRef } from "./resolve-model.js";

export interface PriceBookOptions {
  /** A price file merged over the shipped prices (our shape or LiteLLM's flat JSON). Default: none. */
  pricesPath?: string;
  /** Overrides by model key, merged last (field by field; `null` removes a field). Default: none. */
  overrides?: PriceOverrides;
  /** Azure deployment name → model name it serves. Default: `{}` (the reported model is used). */
  azureDeployments?: Record<string, string>;
}

/** What the worker stores beside a row. */
export interface EventPrice {
  /** Cost in USD rounded half-up to 10 decimals (`"0.0000012500"`); null when the model has no price. */
  costUsd: string | null;
  /** Which prices were used: the shipped version, plus `+<hash>` when a price file, overrides or a deployment map apply. */
  priceVersion: string;
  /** The price-table key the call was priced by (`azure/gpt-4o`), or null when unpriced. */
  priceKey: string | null;
}

/** The fields of a usage event that pricing reads. */
export type PriceableEvent = ModelRef & TokenCounts;

export interface PriceBook {
  readonly version: string;
  /** The merged entries by model key (for inspection and reporting). */
  readonly models: Readonly<Record<string, PriceEntry>>;
  /** The table key a call resolves to, or null. */
  resolve(ref: ModelRef): string | null;
  /** Prices one event; never throws for an unknown model (cost null). */
  priceEvent(event: PriceableEvent): EventPrice;
  /** Like priceEvent, with the exact unrounded cost and the per-token prices applied; undefined when unpriced. */
  explain(event: PriceableEvent): (CallCost & { priceKey: string }) | undefined;
}

/** JSON with keys sorted at every level, so equal content always hashes equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Builds a price book. Reads the price file once, here; throws ConfigError
 * (naming the setting, never a value) when the file or an override is invalid.
 */
export function createPriceBook(options: PriceBookOptions = {}): PriceBook {
  const shipped = shippedPriceTable();
  const fromFile = options.pricesPath ? readPriceFile(options.pricesPath) : {};
  const overrides = options.overrides ? parsePriceOverrides("LLM_TRACKER_PRICE_OVERRIDES", options.overrides) : {};
  const azureDeployments = options.azureDeployments ?? {};
  const models = mergePrices(mergePrices(shipped.models, fromFile), overrides);

  const customized = Object.keys(fromFile).length + Object.keys(overrides).length + Object.keys(azureDeployments).length > 0;
  const hash = createHash("sha256").update(canonicalJson({ fromFile, overrides, azureDeployments })).digest("hex").slice(0, 12);
  const version = customized ? `${shipped.version}+${hash}` : shipped.version;

  // Keys match case-insensitively; the index maps the lower-cased key to the table's own spelling.
  const byLowerKey = new Map(Object.keys(models).map((key) => [key.toLowerCase(), key]));
  const lowerKeys = new Set(byLowerKey.keys());

  const resolve = (ref: ModelRef): string | null => {
    const found = resolvePriceKey(ref, lowerKeys, azureDeployments);
    return found === null ? null : (byLowerKey.get(found) ?? null);
  };

  const explain = (event: PriceableEvent) => {
    const priceKey = resolve(event);
    const entry = priceKey === null ? undefined : models[priceKey];
    const cost = entry ? computeCost(entry, event) : undefined;
    return cost && priceKey !== null ? { ...cost, priceKey } : undefined;
  };

  return {
    version,
    models,
    resolve,
    explain,
    priceEvent(event) {
      const cost = explain(event);
      return { costUsd: cost?.costUsd ?? null, priceVersion: version, priceKey: cost?.priceKey ?? null };
    },
  };
}

let current: PriceBook | undefined;
onConfigurationChange(() => {
  current = undefined;
});

/**
 * The price book for the current configuration (`LLM_TRACKER_PRICES`,
 * `LLM_TRACKER_PRICE_OVERRIDES`, `LLM_TRACKER_AZURE_DEPLOYMENTS`), built on
 * first use and rebuilt after configure(). An edited price file is picked up
 * on the next configure() or process start.
 */
export function getPriceBook(): PriceBook {
  if (!current) {
    const settings = getTrackerSettings();
    current = createPriceBook({
      pricesPath: settings.pricesPath,
      // createPriceBook checks the overrides (the cost module owns the price format).
      overrides: settings.priceOverrides as PriceOverrides | undefined,
      azureDeployments: settings.azureDeployments,
    });
  }
  return current;
}

/** Prices one event with the configured price book (what the worker calls before insert). */
export function priceEvent(event: PriceableEvent): EventPrice {
  return getPriceBook().priceEvent(event);
}
