// What a wrapped openai client says about itself: which provider it talks to, the Azure
// deployment a request goes to, its error class and its key (kept out of error texts).

/** The parts of an `OpenAI` / `AzureOpenAI` instance read here. */
export interface OpenAIClientLike {
  apiKey?: unknown;
  baseURL?: unknown;
  /** AzureOpenAI only: the `deployment` it was made with (may be undefined). */
  deploymentName?: unknown;
  /** AzureOpenAI only. */
  apiVersion?: unknown;
}

// Hosts of Azure OpenAI resources reached with the plain OpenAI client (the v1 API).
const AZURE_HOST = /\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i;

/** `azure_openai` for an AzureOpenAI client or an OpenAI client pointed at an Azure resource; `openai` otherwise. */
export function openAIProviderOf(client: OpenAIClientLike): "openai" | "azure_openai" {
  if ("deploymentName" in client && "apiVersion" in client) return "azure_openai";
  if (typeof client.baseURL === "string") {
    try {
      if (AZURE_HOST.test(new URL(client.baseURL).hostname)) return "azure_openai";
    } catch {
      // not a URL: not Azure
    }
  }
  return "openai";
}

/**
 * The deployment an Azure request is served by: the client's own deployment when it has one,
 * else the request's `model` (Azure routes by it: `/deployments/{model}/…`, and the v1 API
 * takes the deployment name as the model). Null for OpenAI.
 */
export function azureDeploymentOf(client: OpenAIClientLike, provider: string, model: string): string | null {
  if (provider !== "azure_openai") return null;
  return typeof client.deploymentName === "string" && client.deploymentName !== "" ? client.deploymentName : model || null;
}

/** Whether `error` is the SDK's own APIError (an HTTP error or an error event in a stream). */
export function isOpenAIError(client: object, error: unknown): boolean {
  const apiError = (client.constructor as { APIError?: unknown }).APIError;
  return typeof apiError === "function" && error instanceof apiError;
}

export function secretsOf(client: OpenAIClientLike): string[] {
  return typeof client.apiKey === "string" ? [client.apiKey] : [];
}
