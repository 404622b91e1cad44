// The package entry `llm-tracker`: configuration, the tracked call, the plain
// client, the producer's flush/shutdown, the SDK wrappers and the AI SDK middleware,
// error classes and types.
export { configure, type SettingsInput, type OpenAIConfigInput, type AzureOpenAIConfigInput, type GeminiConfigInput } from "./config/settings.js";
export { LLMTracker, type CallAndTrackOptions, type CallAndTrackResult, type StreamAndTrackOptions } from "./usage/tracker.js";
export type { TrackedStream, StreamAndTrackResult } from "./usage/tracked-stream.js";
export type { RecordOptions } from "./usage/record-input.js";
export type { TrackingState } from "./usage/build-event.js";
export { flush, shutdown } from "./usage/default-producer.js";
export { UsageProducer, type UsageProducerOptions, type ProducerStats } from "./usage/producer.js";
export { getLlmService } from "./providers/get-llm-service.js";
export {
  LLMTrackerError,
  BudgetExceededError,
  ConfigError,
  EmptyMessagesError,
  EmptyResponseError,
  InvalidInputError,
  StreamInterruptedError,
  type StreamInterruption,
} from "./errors/index.js";
export { getBudgetStatus } from "./budgets/default-guard.js";
export type { BudgetStatus, BudgetStatusOptions } from "./budgets/budget-status.js";
export type { BudgetInput } from "./config/settings.js";
export type {
  AssistantMessage,
  AssistantToolCall,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatRole,
  FunctionTool,
  LlmService,
  ProviderName,
  SystemMessage,
  ToolCall,
  ToolChoice,
  ToolMessage,
  Usage,
  UserMessage,
} from "./providers/types.js";
export type { UsageEvent } from "./usage/usage-event.js";
export { withTracking, type TrackingContext } from "./usage/tracking-context.js";
export { trackOpenAI } from "./integrations/openai/track-openai.js";
export { trackGemini } from "./integrations/gemini/track-gemini.js";
export { llmTrackerMiddleware, type LlmTrackerMiddleware } from "./integrations/ai-sdk/llm-tracker-middleware.js";
