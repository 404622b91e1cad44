/** Base class of every error llm-tracker itself throws (provider errors are re-thrown as the SDK made them). */
export class LLMTrackerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
