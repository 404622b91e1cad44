import { describe, expect, it } from "vitest";
import { OpenAIStreamAccumulator } from "../../../src/providers/openai/openai-stream-accumulator.js";
import { openAIChunks } from "../../support/sse-chunks.js";

function accumulate(name: string, take?: number) {
  const accumulator = new OpenAIStreamAccumulator("requested-model");
  const outputs = openAIChunks(name)
    .slice(0, take)
    .map((chunk) => accumulator.add(chunk));
  return { outputs, snapshot: accumulator.snapshot() };
}

const noTools: never[] = [];

describe("OpenAI stream accumulator, on recorded stream bodies", () => {
  it.each([
    {
      name: "openai/stream-basic",
      content: "Tides rise and fall because the Moon's gravity pulls on the oceans.",
      usage: { model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 18, completion_tokens: 14, total_tokens: 32, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: noTools,
    },
    {
      name: "openai/stream-reasoning-cached",
      content: "The answer is 42.",
      usage: { model: "o4-mini-2025-04-16", prompt_tokens: 2210, completion_tokens: 325, total_tokens: 2535, cached_tokens: 2048, reasoning_tokens: 320 },
      toolCalls: noTools,
    },
    {
      name: "azure/stream-prompt-filter",
      content: "Lisbon sits on the Tagus estuary.",
      // The first chunk's and the late annotation chunk's `model: ""` do not overwrite the model.
      usage: { model: "gpt-4o-2024-11-20", prompt_tokens: 21, completion_tokens: 8, total_tokens: 29, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: noTools,
    },
    {
      name: "openai/stream-tool-calls",
      content: "",
      usage: { model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 84, completion_tokens: 19, total_tokens: 103, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: [{ id: "call_Wx4kP9sLq2VbN7cR1tYe", name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' }],
    },
    {
      name: "openai/stream-parallel-tool-calls",
      content: "",
      usage: { model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 131, completion_tokens: 52, total_tokens: 183, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: [
        { id: "call_Ab3dE5fG7hJ9kL1mN3pQ", name: "get_weather", arguments: '{"city": "Porto"}' },
        { id: "call_Rs5tU7vW9xY1zA3bC5dE", name: "get_time", arguments: '{"timezone": "Europe/Lisbon"}' },
      ],
    },
  ])("$name: content is the joined deltas, usage the usage chunk, tool calls assembled", ({ name, content, usage, toolCalls }) => {
    const { outputs, snapshot } = accumulate(name);
    expect(snapshot).toEqual({ model: usage.model, content, toolCalls, usage, completionReported: true, finished: true, emptyReason: null });
    expect(outputs.filter((o) => o !== null && o !== "").join("")).toBe(content);
  });

  it("says which chunks carried output: text, '' for a tool-call delta, null for role, finish, usage and filter chunks", () => {
    expect(accumulate("openai/stream-basic").outputs).toEqual([null, "Tides", " rise", " and", " fall", " because", " the", " Moon", "'s", " gravity", " pulls", " on", " the", " oceans", ".", null, null]);
    expect(accumulate("openai/stream-tool-calls").outputs).toEqual(["", "", "", "", "", "", "", "", "", "", "", null, null]);
    const azure = accumulate("azure/stream-prompt-filter").outputs;
    expect(azure[0]).toBeNull(); // choices: [] + prompt_filter_results
    expect(azure.at(-2)).toBeNull(); // the late annotation chunk, after the finish chunk
  });

  it("a stream cut before the finish and usage chunks is not finished and reports no usage", () => {
    const { snapshot } = accumulate("openai/stream-basic", 5);
    expect(snapshot).toMatchObject({ content: "Tides rise and fall", usage: null, completionReported: false, finished: false, emptyReason: null });
  });

  it("a stream cut after the finish chunk but before the usage chunk is finished, without usage", () => {
    const { snapshot } = accumulate("openai/stream-basic", 16);
    expect(snapshot).toMatchObject({ usage: null, finished: true, emptyReason: null });
  });

  it("a completion the content filter stopped is finished and empty (content_filter), with the text that came before", () => {
    const { snapshot } = accumulate("azure/stream-content-filter");
    expect(snapshot).toMatchObject({ content: "Here are the lyrics", usage: null, finished: true, emptyReason: "content_filter" });
  });

  it("falls back to the requested model only for usage; the snapshot's model is what the provider named", () => {
    const accumulator = new OpenAIStreamAccumulator("requested-model");
    expect(accumulator.snapshot().model).toBeNull();
  });
});
