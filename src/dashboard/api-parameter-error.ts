// The dashboard API's one error of its own.

/**
 * Thrown for a query parameter the API refuses (unknown, repeated, malformed,
 * or refused by the stats); `parameter` is its name in the URL. The server
 * answers 400 with the parameter and the message.
 */
export class ApiParameterError extends Error {
  constructor(
    readonly parameter: string,
    problem: string,
  ) {
    super(`${parameter}: ${problem}`);
  }
}
