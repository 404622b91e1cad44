// The `limit` the ranked stats take, checked before any query is made.
import { InvalidInputError } from "../errors/invalid-input-error.js";

/** A positive integer up to `max`, or undefined (no limit); anything else throws InvalidInputError naming `argument`. */
export function parseLimit(argument: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max) return value;
  const shown = typeof value === "number" ? String(value) : typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : value === null ? "null" : typeof value;
  throw new InvalidInputError(argument, `expected an integer from 1 to ${max.toLocaleString("en-US")}, got ${shown}`);
}
