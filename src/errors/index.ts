export { LLMTrackerError } from "./llm-tracker-error.js";
export { ConfigError } from "./config-error.js";
export { EmptyMessagesError } from "./empty-messages-error.js";
export { EmptyResponseError } from "./empty-response-error.js";
export { InvalidInputError } from "./invalid-input-error.js";
export { StreamInterruptedError, type StreamInterruption } from "./stream-interrupted-error.js";
export { BudgetExceededError } from "./budget-exceeded-error.js";
