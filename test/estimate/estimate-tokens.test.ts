import { describe, expect, it } from "vitest";
import { countTokens, encodingNameFor } from "../../src/estimate/count-tokens.js";
import { estimatePromptTokens } from "../../src/estimate/estimate-prompt-tokens.js";
import { estimateCompletionTokens, streamEndUsage } from "../../src/estimate/stream-end-usage.js";
import type { StreamSnapshot } from "../../src/providers/types.js";

describe("token counts (gpt-tokenizer)", () => {
  it.each([
    ["gpt-4", "cl100k_base"],
    ["gpt-4-0613", "cl100k_base"],
    ["gpt-4-turbo", "cl100k_base"],
    ["gpt-3.5-turbo", "cl100k_base"],
    ["gpt-35-turbo", "cl100k_base"],
    ["gpt-4o-mini", "o200k_base"],
    ["gpt-4.1-mini-2025-04-14", "o200k_base"],
    ["gpt-5-nano", "o200k_base"],
    ["o4-mini", "o200k_base"],
    ["gemini-2.5-flash", "o200k_base"],
  ])("%s is counted with %s", (model, encoding) => {
    expect(encodingNameFor(model)).toBe(encoding);
  });

  it("counts text as the model's encoding does, special-token text as plain text", () => {
    expect(countTokens("", "gpt-4o")).toBe(0);
    expect(countTokens("hello world", "gpt-4o")).toBe(2);
    expect(countTokens('{"city":"Lisbon","unit":"celsius"}', "gpt-4o")).toBe(11);
    expect(countTokens('{"city":"Lisbon","unit":"celsius"}', "gpt-4")).toBe(12);
    expect(countTokens("<|endoftext|>", "gpt-4o")).toBe(7);
  });
});

describe("prompt estimate", () => {
  const messages = [
    { role: "system" as const, content: "hello world" },
    { role: "user" as const, content: "What is 2+2?" },
  ];

  it("OpenAI framing: 3 per message + the role + the text, 3 to prime the reply", () => {
    expect(estimatePromptTokens(messages, undefined, "gpt-4o", "openai")).toBe(3 + (3 + 1 + 2) + (3 + 1 + 7));
  });

  it("Gemini framing: the text alone", () => {
    expect(estimatePromptTokens(messages, undefined, "gemini-2.5-flash", "gemini")).toBe(2 + 7);
  });

  it("counts tool calls (name + arguments), tool results and the tool definitions", () => {
    const loop = [
      { role: "user" as const, content: "hello world" },
      { role: "assistant" as const, content: null, tool_calls: [{ id: "c1", name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' }] },
      { role: "tool" as const, tool_call_id: "c1", content: "hello world" },
    ];
    const tools = [{ type: "function" as const, function: { name: "get_weather" } }];
    expect(estimatePromptTokens(loop, tools, "gpt-4o", "gemini")).toBe(2 + countTokens('get_weather{"city":"Lisbon","unit":"celsius"}', "gpt-4o") + 2 + countTokens('[{"name":"get_weather"}]', "gpt-4o"));
  });
});

describe("usage at the end of a stream", () => {
  const base: StreamSnapshot = { model: "gpt-4o", content: "hello world", toolCalls: [], usage: null, completionReported: false, finished: false, emptyReason: null };
  const reported = { model: "gemini-2.0-flash", prompt_tokens: 9, completion_tokens: 0, total_tokens: 9, cached_tokens: 4, reasoning_tokens: 0 };

  it("the provider's report as it is when it counts everything received", () => {
    const usage = { ...reported, completion_tokens: 15, total_tokens: 24 };
    expect(streamEndUsage({ ...base, usage, completionReported: true }, () => 999, "m")).toEqual({ usage, usageReported: true });
  });

  it("Gemini's report without the answer: its prompt, cached and thoughts, plus the answer text estimated; unreported", () => {
    const thinking = { ...reported, completion_tokens: 203, total_tokens: 212, reasoning_tokens: 203 };
    expect(streamEndUsage({ ...base, usage: thinking }, () => 999, "m")).toEqual({
      usage: { ...thinking, completion_tokens: 203 + 2, total_tokens: 9 + 205 },
      usageReported: false,
    });
  });

  it("never less than what the provider did report for the answer", () => {
    const usage = { ...reported, completion_tokens: 40, total_tokens: 49 };
    expect(streamEndUsage({ ...base, usage }, () => 999, "m").usage.completion_tokens).toBe(40);
  });

  it("no report: prompt from the request, completion from the text and tool calls received, unreported", () => {
    const snapshot = { ...base, toolCalls: [{ id: "c", name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' }] };
    // text + (framing + name + arguments) of the call
    expect(estimateCompletionTokens(snapshot, "gpt-4o")).toBe(2 + (8 + 2 + 11));
    expect(streamEndUsage(snapshot, () => 20, "fallback")).toEqual({
      usage: { model: "gpt-4o", prompt_tokens: 20, completion_tokens: 23, total_tokens: 43, cached_tokens: 0, reasoning_tokens: 0 },
      usageReported: false,
    });
  });

  it("names the requested model when the provider named none", () => {
    expect(streamEndUsage({ ...base, model: null }, () => 1, "gpt-4.1-mini").usage.model).toBe("gpt-4.1-mini");
  });

  it("does not estimate the prompt when the provider reported it", () => {
    let asked = false;
    streamEndUsage({ ...base, usage: reported }, () => ((asked = true), 0), "m");
    expect(asked).toBe(false);
  });
});
