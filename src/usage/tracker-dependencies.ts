// Where the tracked calls get their provider client and producer; the defaults follow configure().
import { getLlmService } from "../providers/get-llm-service.js";
import type { LlmService } from "../providers/types.js";
import { getDefaultProducer } from "./default-producer.js";
import type { UsageProducer } from "./producer.js";

export interface TrackerDependencies {
  service: () => LlmService;
  producer: () => UsageProducer;
}

export const defaultDependencies: TrackerDependencies = { service: getLlmService, producer: getDefaultProducer };
