import { LLMTrackerError } from "./llm-tracker-error.js";

/**
 * Thrown when the configuration is missing a key or holds an invalid value.
 * `key` names the setting (for example `OPENAI_CONFIG.api_key`); the message
 * never contains the value, so a secret can not leak through it.
 */
export class ConfigError extends LLMTrackerError {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`${key}: ${problem}`);
  }
}
