// Quick measurement (not a test): how close the tokenizer estimate of an answer comes to the
// provider's own count, on the live captures in ../shared/fixtures (real answers with the usage
// the provider reported; their prompts were not recorded, so only completions are compared).
// Each capture goes through our own stream accumulator; the answer part of the reported
// completion (completion − reasoning) is compared with estimateCompletionTokens.
// Run: npx tsx bench/estimate-accuracy.ts [fixturesDir=../shared/fixtures]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GenerateContentResponse } from "@google/genai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { estimateCompletionTokens } from "../src/estimate/stream-end-usage.js";
import { GeminiStreamAccumulator } from "../src/providers/gemini/gemini-stream-accumulator.js";
import { OpenAIStreamAccumulator } from "../src/providers/openai/openai-stream-accumulator.js";
import type { StreamAccumulator, StreamSnapshot } from "../src/providers/types.js";
import { sseEvents } from "../test/fake-provider/fake-provider.js";

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, "..", "..", "shared", "fixtures"));

function payloads(file: string): unknown[] {
  const text = readFileSync(join(dir, file), "utf8");
  if (file.endsWith(".json")) return [JSON.parse(text)];
  return sseEvents(text)
    .map((event) => event.trim())
    .filter((event) => event.startsWith("data:") && event !== "data: [DONE]")
    .map((event) => JSON.parse(event.slice("data:".length)) as unknown);
}

function snapshotOf<T>(accumulator: StreamAccumulator<T>, chunks: T[]): StreamSnapshot {
  for (const chunk of chunks) accumulator.add(chunk);
  return accumulator.snapshot();
}

const openai = ["openai/stream-include-usage.sse", "openai/stream-finish-length.sse", "openai/stream-include-usage-details.sse", "openai/stream-tool-calls.sse", "azure/stream-model-router-prompt-filter.sse"];
const gemini = [
  "gemini/stream-basic.sse",
  "gemini/stream-thinking.sse",
  "gemini/stream-gemini3-thinking.sse",
  "gemini/generate-content-basic.json",
  "gemini/generate-content-thinking.json",
  "gemini/generate-content-gemini3-thinking.json",
  "gemini/generate-content-implicit-cache-thinking.json",
  "gemini/generate-content-function-call.json",
];

const rows: { file: string; model: string; reported: number; estimated: number }[] = [];
for (const file of openai) {
  const snapshot = snapshotOf(new OpenAIStreamAccumulator("gpt-4o"), payloads(file) as ChatCompletionChunk[]);
  const usage = snapshot.usage!;
  rows.push({ file, model: usage.model, reported: usage.completion_tokens - usage.reasoning_tokens, estimated: estimateCompletionTokens(snapshot, usage.model) });
}
for (const file of gemini) {
  const chunks = payloads(file).map((payload) => Object.assign(new GenerateContentResponse(), payload));
  const snapshot = snapshotOf(new GeminiStreamAccumulator("gemini"), chunks);
  const usage = snapshot.usage!;
  rows.push({ file, model: usage.model, reported: usage.completion_tokens - usage.reasoning_tokens, estimated: estimateCompletionTokens(snapshot, usage.model) });
}

console.log("| capture | model | answer tokens reported | estimated | estimate / reported |");
console.log("|---|---|---|---|---|");
for (const row of rows) console.log(`| ${row.file} | ${row.model} | ${row.reported} | ${row.estimated} | ${(row.estimated / row.reported).toFixed(2)} |`);
const total = (pick: (row: (typeof rows)[number]) => number, family: string) => rows.filter((row) => row.model.startsWith(family)).reduce((sum, row) => sum + pick(row), 0);
for (const family of ["gpt", "gemini"]) {
  console.log(`${family}: estimated / reported over all captures = ${(total((r) => r.estimated, family) / total((r) => r.reported, family)).toFixed(2)}`);
}
