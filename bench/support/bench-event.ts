// The usage every benchmark records: a typical successful call, varied by index
// (50 users, 20 models) so rows look like real traffic rather than copies.
import type { RecordOptions } from "../../src/usage/record-input.js";

const MODELS = Array.from({ length: 20 }, (_, i) => `gpt-bench-${i}`);

export function benchRecord(i: number): RecordOptions {
  return {
    usage: { model: MODELS[i % MODELS.length]!, prompt_tokens: 120 + (i % 500), completion_tokens: 40 + (i % 97), cached_tokens: 0, reasoning_tokens: 0 },
    provider: "openai",
    latencyMs: 321,
    nodeName: "interpret",
    state: { user_id: `user-${i % 50}`, source_type: "task", source_task_id: `task-${i}`, source_path: "/bench/ingest" },
  };
}
