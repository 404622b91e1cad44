// The Responses API's usage converter and stream accumulator, on recorded payloads.
import { describe, expect, it } from "vitest";
import { convertResponsesUsage, type OpenAIResponsesUsage } from "../../../src/providers/openai/convert-responses-usage.js";
import { ResponsesStreamAccumulator, type ResponsesStreamEvent } from "../../../src/providers/openai/responses-stream-accumulator.js";
import { loadFixture, loadSse, sseEvents } from "../../fake-provider/fake-provider.js";

const events = (name: string) =>
  sseEvents(loadSse(name))
    .map((event) => event.trim())
    .filter((event) => event.startsWith("data:"))
    .map((event) => JSON.parse(event.slice("data:".length)) as ResponsesStreamEvent);

describe("convertResponsesUsage", () => {
  const rows: [name: string, usage: OpenAIResponsesUsage | null | undefined, expected: { prompt: number; completion: number; total: number; cached: number; reasoning: number } | null][] = [
    ["responses-basic.json (file_search, cached and reasoning)", (loadFixture("openai/responses-basic") as { usage: OpenAIResponsesUsage }).usage, { prompt: 3700, completion: 741, total: 4441, cached: 2560, reasoning: 640 }],
    ["responses-stream.sse's response.completed", events("openai/responses-stream").at(-1)!.response!.usage, { prompt: 802, completion: 20, total: 822, cached: 0, reasoning: 0 }],
    ["response.created's usage: null (no usage yet)", events("openai/responses-stream")[0]!.response!.usage, null],
    ["no usage key", undefined, null],
    ["details missing (a compatible server)", { input_tokens: 10, output_tokens: 4 }, { prompt: 10, completion: 4, total: 14, cached: 0, reasoning: 0 }],
    ["details null", { input_tokens: 10, output_tokens: 4, total_tokens: 14, input_tokens_details: null, output_tokens_details: null }, { prompt: 10, completion: 4, total: 14, cached: 0, reasoning: 0 }],
  ];

  it.each(rows)("%s", (_name, usage, e) => {
    const converted = convertResponsesUsage(usage, "m");
    if (e === null) {
      expect(converted).toEqual({ usage: { model: "m", prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 }, usageReported: false });
      return;
    }
    expect(converted).toEqual({ usage: { model: "m", prompt_tokens: e.prompt, completion_tokens: e.completion, total_tokens: e.total, cached_tokens: e.cached, reasoning_tokens: e.reasoning }, usageReported: true });
    // The invariants: cached ⊆ prompt, reasoning ⊆ completion, total = prompt + completion.
    expect(converted.usage.cached_tokens).toBeLessThanOrEqual(converted.usage.prompt_tokens);
    expect(converted.usage.reasoning_tokens).toBeLessThanOrEqual(converted.usage.completion_tokens);
    expect(converted.usage.total_tokens).toBe(converted.usage.prompt_tokens + converted.usage.completion_tokens);
  });
});

describe("ResponsesStreamAccumulator", () => {
  it("responses-stream.sse: the text deltas, the model, and the usage of response.completed", () => {
    const accumulator = new ResponsesStreamAccumulator("gpt-5.2");
    const outputs = events("openai/responses-stream").map((event) => accumulator.add(event));
    expect(outputs.filter((text) => text !== null).join("")).toBe("The architecture is **x86_64** (64-bit Intel/AMD).");
    expect(accumulator.snapshot()).toEqual({
      model: "gpt-5.2-2025-12-11",
      content: "The architecture is **x86_64** (64-bit Intel/AMD).",
      toolCalls: [],
      usage: { model: "gpt-5.2-2025-12-11", prompt_tokens: 802, completion_tokens: 20, total_tokens: 822, cached_tokens: 0, reasoning_tokens: 0 },
      completionReported: true,
      finished: true,
      emptyReason: null,
    });
  });

  it("before response.completed: not finished, no usage (an early end estimates)", () => {
    const accumulator = new ResponsesStreamAccumulator("gpt-5.2");
    for (const event of events("openai/responses-stream").slice(0, 10)) accumulator.add(event);
    expect(accumulator.snapshot()).toMatchObject({ finished: false, usage: null, model: "gpt-5.2-2025-12-11" });
  });

  it("a function call: started by output_item.added, arguments from their deltas (events of the Responses API reference)", () => {
    const accumulator = new ResponsesStreamAccumulator("gpt-5.2");
    const added: ResponsesStreamEvent = { type: "response.output_item.added", output_index: 0, item: { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: "" } };
    expect(accumulator.add(added)).toBe("");
    accumulator.add({ type: "response.function_call_arguments.delta", item_id: "fc_1", delta: '{"city":' });
    accumulator.add({ type: "response.function_call_arguments.delta", item_id: "fc_1", delta: '"Lisbon"}' });
    expect(accumulator.snapshot().toolCalls).toEqual([{ id: "call_1", name: "get_weather", arguments: '{"city":"Lisbon"}' }]);
  });

  it("response.failed and error events finish the stream as failed", () => {
    const failed = new ResponsesStreamAccumulator("m");
    failed.add({ type: "response.failed", response: { model: "m-1", status: "failed", usage: null, error: { code: "server_error", message: "x" } } });
    expect(failed.snapshot()).toMatchObject({ finished: true, emptyReason: "failed:server_error", usage: null });
    const errored = new ResponsesStreamAccumulator("m");
    errored.add({ type: "error", code: "rate_limit_exceeded", message: "slow down" });
    expect(errored.snapshot()).toMatchObject({ finished: true, emptyReason: "error:rate_limit_exceeded" });
  });
});
