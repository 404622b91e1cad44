import { LLMTrackerError } from "./llm-tracker-error.js";

/** Thrown before any provider call when `messages` is missing or empty. Nothing is recorded. */
export class EmptyMessagesError extends LLMTrackerError {
  constructor() {
    super("Messages cannot be empty");
  }
}
