// Prices one usage event for its row, as the worker writes it. Never throws:
// a price problem leaves the cost null (the row is still written), never poisons
// the event or fails its batch.
import type { Logger } from "../logger.js";
import type { PriceableEvent, PriceBook } from "./price-book.js";

/** The cost columns of a usage row. */
export interface RowPrice {
  /** Exact USD, rounded half-up to 10 decimals; null when the model has no price (or pricing failed). */
  cost_usd: string | null;
  /** The price book's version; set even when unpriced, so a row says which table was consulted. */
  price_version: string;
}

/** The event's identifying fields, for the log line of an unpriced event. */
type LoggedEvent = PriceableEvent & { id?: string };

/** Prices `event` with `book`; logs an unknown model at debug, a pricing failure at warn (when given a logger). */
export function priceRow(book: PriceBook, event: LoggedEvent, logger?: Pick<Logger, "debug" | "warn">): RowPrice {
  try {
    const { costUsd } = book.priceEvent(event);
    if (costUsd === null) {
      logger?.debug({ eventId: event.id, provider: event.provider, model: event.model, deployment: event.deployment }, "no price for this model; cost left null");
    }
    return { cost_usd: costUsd, price_version: book.version };
  } catch (error) {
    // Only the error's class and message: they name a field, never a secret.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger?.warn({ eventId: event.id, model: event.model, error: reason.slice(0, 300) }, "pricing failed; cost left null");
    return { cost_usd: null, price_version: book.version };
  }
}
