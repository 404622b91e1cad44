// The configured provider's client, built once per configuration.
import { getProviderSettings, onConfigurationChange } from "../config/settings.js";
import { createAzureOpenAIService } from "./azure/azure-openai-service.js";
import { createGeminiService } from "./gemini/gemini-service.js";
import { createOpenAIService } from "./openai/openai-service.js";
import type { LlmService } from "./types.js";

let cached: LlmService | undefined;
// A reconfiguration drops the client; the next call builds one from the new settings.
onConfigurationChange(() => {
  cached = undefined;
});

/** Builds the service for the given settings (no caching). */
export function createLlmService(settings = getProviderSettings()): LlmService {
  switch (settings.provider) {
    case "openai":
      return createOpenAIService(settings);
    case "azure_openai":
      return createAzureOpenAIService(settings);
    case "gemini":
      return createGeminiService(settings);
  }
}

/**
 * The configured provider's client (cached until the next `configure()`).
 * Throws `ConfigError` when the configuration is incomplete.
 */
export function getLlmService(): LlmService {
  cached ??= createLlmService();
  return cached;
}
