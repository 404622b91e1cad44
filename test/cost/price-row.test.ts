// priceRow, the worker's pricing step: a cost for a known model, null and a
// debug line for an unknown one, null and a warning (never a throw) when pricing fails.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createPriceBook, type PriceBook } from "../../src/cost/index.js";
import { priceRow } from "../../src/cost/price-row.js";

function capturingLogger() {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

const call = { id: "e1", provider: "openai", model: "gpt-4o", deployment: null, prompt_tokens: 1_000, completion_tokens: 100, cached_tokens: 0, reasoning_tokens: 0 };
const book = createPriceBook();

describe("priceRow", () => {
  it("gives a known model its exact cost and the book's version", () => {
    // gpt-4o: 1,000 × 2.5e-6 + 100 × 1e-5 = 0.0025 + 0.001 = 0.0035
    const { logger, lines } = capturingLogger();
    expect(priceRow(book, call, logger)).toEqual({ cost_usd: "0.0035000000", price_version: book.version });
    expect(lines).toEqual([]);
  });

  it("leaves an unknown model's cost null, keeps the version, and says so at debug", () => {
    const { logger, lines } = capturingLogger();
    expect(priceRow(book, { ...call, model: "llama-3-70b" }, logger)).toEqual({ cost_usd: null, price_version: book.version });
    expect(lines).toMatchObject([{ level: 20, eventId: "e1", model: "llama-3-70b", msg: "no price for this model; cost left null" }]);
  });

  it("turns a pricing failure into a null cost and a warning instead of throwing", () => {
    // A book whose pricing breaks (as a faulty price entry would); the event must still be written.
    const broken: PriceBook = { ...book, priceEvent: () => { throw new RangeError("bad tier in entry gpt-4o"); } };
    const { logger, lines } = capturingLogger();
    expect(priceRow(broken, call, logger)).toEqual({ cost_usd: null, price_version: book.version });
    expect(lines).toMatchObject([{ level: 40, eventId: "e1", error: "RangeError: bad tier in entry gpt-4o", msg: "pricing failed; cost left null" }]);
  });
});
