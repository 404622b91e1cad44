// Azure OpenAI: the OpenAI adapter with Azure's URL and `api-key` header.
import OpenAI, { AzureOpenAI } from "openai";
import type { AzureOpenAISettings, ProviderSettings } from "../../config/settings.js";
import { OpenAIChatService, commonClientOptions } from "../openai/openai-service.js";
import type { LlmService } from "../types.js";

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * With `apiVersion`: `{api_base}/openai/deployments/{deployment}/chat/completions?api-version=…`
 * through the SDK's AzureOpenAI client. Without it: the v1 endpoint
 * `{api_base}/openai/v1/chat/completions` with the deployment as the model, through a
 * plain OpenAI client that sends `api-key` instead of `Authorization: Bearer`.
 */
export function createAzureOpenAIService(settings: AzureOpenAISettings & Pick<ProviderSettings, "timeoutMs" | "maxRetries">): LlmService {
  const base = trimSlashes(settings.apiBase);
  const defaults = { model: settings.deployment, maxTokens: settings.maxTokens, temperature: settings.temperature };
  if (settings.apiVersion) {
    const client = new AzureOpenAI({
      apiKey: settings.apiKey,
      // baseURL rather than endpoint: AzureOpenAI refuses endpoint when OPENAI_BASE_URL is set.
      baseURL: `${base}/openai`,
      deployment: settings.deployment,
      apiVersion: settings.apiVersion,
      ...commonClientOptions(settings),
    });
    return new OpenAIChatService("azure_openai", client, defaults, settings.deployment);
  }
  const client = new OpenAI({
    apiKey: settings.apiKey,
    baseURL: `${base}/openai/v1`,
    defaultHeaders: { "api-key": settings.apiKey, Authorization: null },
    ...commonClientOptions(settings),
  });
  return new OpenAIChatService("azure_openai", client, defaults, settings.deployment);
}
