import { describe, expect, it } from "vitest";
import { GeminiStreamAccumulator } from "../../../src/providers/gemini/gemini-stream-accumulator.js";
import { geminiChunks } from "../../support/sse-chunks.js";

function accumulate(name: string, take?: number) {
  const accumulator = new GeminiStreamAccumulator("gemini-2.5-flash");
  const outputs = geminiChunks(name)
    .slice(0, take)
    .map((chunk) => accumulator.add(chunk));
  return { outputs, snapshot: accumulator.snapshot() };
}

describe("Gemini stream accumulator, on recorded stream bodies", () => {
  it("usage is the last usageMetadata, never the sum of the cumulative reports", () => {
    const { snapshot, outputs } = accumulate("gemini/stream-basic");
    expect(snapshot).toEqual({
      model: "gemini-2.0-flash",
      content: "Rainbows form when sunlight is refracted, reflected and dispersed in raindrops.\n",
      toolCalls: [],
      // Three chunks each report promptTokenCount 9: summed it would be 27.
      usage: { model: "gemini-2.0-flash", prompt_tokens: 9, completion_tokens: 15, total_tokens: 24, cached_tokens: 0, reasoning_tokens: 0 },
      completionReported: true,
      finished: true,
      emptyReason: null,
    });
    expect(outputs).toEqual(["Rainbows", " form when sunlight is refracted", ", reflected and dispersed in raindrops.\n"]);
  });

  it("cut before the end: the last report counts the prompt but not the answer text received", () => {
    const { snapshot } = accumulate("gemini/stream-basic", 2);
    expect(snapshot).toMatchObject({
      content: "Rainbows form when sunlight is refracted",
      usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 },
      completionReported: false,
      finished: false,
    });
  });

  it("thinking: thought summaries are not answer text; thoughtsTokenCount is reasoning, outside candidates", () => {
    const { snapshot, outputs } = accumulate("gemini/stream-thinking");
    expect(outputs).toEqual([null, null, "Water boils at 212 °F", " at sea level."]);
    expect(snapshot).toMatchObject({
      content: "Water boils at 212 °F at sea level.",
      usage: { model: "gemini-2.5-flash", prompt_tokens: 12, completion_tokens: 215, total_tokens: 227, reasoning_tokens: 203 },
      completionReported: true,
      finished: true,
    });
  });

  it("thinking, cut while still thinking: the report counts everything received", () => {
    const { snapshot } = accumulate("gemini/stream-thinking", 2);
    expect(snapshot).toMatchObject({ content: "", usage: { prompt_tokens: 12, completion_tokens: 203, reasoning_tokens: 203 }, completionReported: true, finished: false });
  });

  it("Vertex style, counts only on the last chunk: none before it, the full count at the end", () => {
    expect(accumulate("gemini/stream-usage-last-only", 2).snapshot).toMatchObject({ content: "Granite is an igneous rock", usage: null, completionReported: false });
    expect(accumulate("gemini/stream-usage-last-only").snapshot).toMatchObject({
      usage: { prompt_tokens: 8, completion_tokens: 13, total_tokens: 21 },
      completionReported: true,
      finished: true,
      emptyReason: null,
    });
  });

  it("a function call only: a tool call with its args as JSON text and its thought signature, not an empty answer", () => {
    const { snapshot, outputs } = accumulate("gemini/stream-function-call");
    expect(outputs).toEqual([""]);
    expect(snapshot).toMatchObject({ content: "", finished: true, emptyReason: null, usage: { prompt_tokens: 58, completion_tokens: 65, reasoning_tokens: 47 } });
    expect(snapshot.toolCalls).toEqual([
      {
        id: expect.stringMatching(/^llmt_call_[0-9a-f]{24}$/),
        name: "get_weather",
        arguments: '{"city":"Lisbon","unit":"celsius"}',
        thoughtSignature: "CpUBAdHtim8xQk2LtS0vNq4r7YdW1mZc3pT9eRb6uJgA5sHfK0oE8iPxVnC2yL7dM4qU",
      },
    ]);
  });

  it("a blocked prompt is finished and empty, with the prompt's usage", () => {
    const { snapshot } = accumulate("gemini/stream-prompt-blocked");
    expect(snapshot).toMatchObject({ finished: true, emptyReason: "prompt_blocked:PROHIBITED_CONTENT", usage: { prompt_tokens: 14, completion_tokens: 0 } });
  });
});
