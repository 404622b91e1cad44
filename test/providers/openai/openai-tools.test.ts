import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../../src/config/settings.js";
import { getLlmService } from "../../../src/providers/get-llm-service.js";
import type { ChatMessage, FunctionTool } from "../../../src/providers/types.js";
import { type FakeProvider, loadFixture, loadSse, startFakeProvider } from "../../fake-provider/fake-provider.js";

const API_KEY = "sk-test-RECOGNISABLE-openai-key-0123456789";
let fake: FakeProvider;

const weather: FunctionTool = {
  type: "function",
  function: { name: "get_weather", description: "Current weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false } },
};

beforeEach(async () => {
  fake = await startFakeProvider();
  resetConfiguration();
  configure({ LLM_PROVIDER: "openai", LLM_MAX_RETRIES: 0, OPENAI_CONFIG: { api_key: API_KEY, base_url: `${fake.url}/v1`, model: "gpt-4.1-mini" } });
});
afterEach(async () => {
  resetConfiguration();
  await fake.close();
});

describe("OpenAI adapter: tools", () => {
  it("sends tools and tool_choice as given, and returns the answer's tool calls (no text is not an empty answer)", async () => {
    fake.enqueue({ body: loadFixture("openai/chat-completion-tool-calls") });
    const result = await getLlmService().chat({ messages: [{ role: "user", content: "Weather in Lisbon?" }], tools: [weather], toolChoice: { type: "function", function: { name: "get_weather" } } });
    expect(fake.requests[0]?.body).toMatchObject({ tools: [weather], tool_choice: { type: "function", function: { name: "get_weather" } } });
    expect(result).toEqual({
      content: "",
      usage: { model: "gpt-4.1-mini-2025-04-14", prompt_tokens: 84, completion_tokens: 19, total_tokens: 103, cached_tokens: 0, reasoning_tokens: 0 },
      toolCalls: [{ id: "call_Hj2kL4mN6pQ8rS0tU2vW", name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}' }],
    });
  });

  it.each(["auto", "none", "required"] as const)("sends tool_choice %s as the string", async (choice) => {
    await getLlmService().chat({ messages: [{ role: "user", content: "hi" }], tools: [weather], toolChoice: choice });
    expect((fake.requests[0]?.body as { tool_choice: unknown }).tool_choice).toBe(choice);
  });

  it("sends no tools or tool_choice keys when none are given", async () => {
    await getLlmService().chat({ messages: [{ role: "user", content: "hi" }] });
    expect(fake.requests[0]?.body).not.toHaveProperty("tools");
    expect(fake.requests[0]?.body).not.toHaveProperty("tool_choice");
  });

  it("continues a tool loop: assistant tool calls in either shape go out in OpenAI's, tool results by tool_call_id", async () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "Weather in Lisbon and the time?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", name: "get_weather", arguments: '{"city":"Lisbon"}' },
          { id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp_c":19}' },
      { role: "tool", tool_call_id: "call_2", content: "14:05" },
    ];
    await getLlmService().chat({ messages, tools: [weather] });
    expect((fake.requests[0]?.body as { messages: unknown }).messages).toEqual([
      { role: "user", content: "Weather in Lisbon and the time?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Lisbon"}' } },
          { id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp_c":19}' },
      { role: "tool", tool_call_id: "call_2", content: "14:05" },
    ]);
  });

  it("a stream asks for stream: true and stream_options.include_usage, with the same body otherwise", async () => {
    fake.enqueue({ stream: { sse: loadSse("openai/stream-basic") } });
    const opened = await getLlmService().openStream({ messages: [{ role: "user", content: "hi" }], tools: [weather], toolChoice: "auto", maxTokens: 50 });
    for (let step = await opened.chunks.next(); !step.done; step = await opened.chunks.next());
    expect(fake.requests[0]?.body).toEqual({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "hi" }],
      max_completion_tokens: 50,
      tools: [weather],
      tool_choice: "auto",
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});
