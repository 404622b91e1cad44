// Cost analysis: the price table, model resolution and exact per-call pricing.
export { createPriceBook, getPriceBook, priceEvent } from "./price-book.js";
export type { EventPrice, PriceBook, PriceBookOptions, PriceableEvent } from "./price-book.js";
export { computeCost, applicablePrices } from "./compute-cost.js";
export type { AppliedPrices, CallCost, TokenCounts } from "./compute-cost.js";
export { resolvePriceKey } from "./resolve-model.js";
export type { ModelRef } from "./resolve-model.js";
export { shippedPriceTable, readPriceFile, mergePrices, parsePriceOverrides } from "./price-table.js";
export type { PriceEntry, PriceEntryOverride, PriceOverrides, PriceTable, PriceValue } from "./price-table.js";
export { COST_DECIMALS, PRICE_SCALE, formatExact, formatRounded, parseDecimal } from "./decimal.js";
