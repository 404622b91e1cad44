import { LLMTrackerError } from "./llm-tracker-error.js";

/**
 * Thrown synchronously when an argument is malformed: a date the stats can not
 * parse, an unknown time zone, a usage object `record()` can not accept. The
 * message names the argument.
 */
export class InvalidInputError extends LLMTrackerError {
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}
