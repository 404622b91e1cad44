import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configure, resetConfiguration } from "../../../src/config/settings.js";
import { InvalidInputError } from "../../../src/errors/invalid-input-error.js";
import { getLlmService } from "../../../src/providers/get-llm-service.js";
import type { ChatMessage, FunctionTool } from "../../../src/providers/types.js";
import { type FakeProvider, loadFixture, loadSse, startFakeProvider } from "../../fake-provider/fake-provider.js";

const API_KEY = "AIza-test-RECOGNISABLE-gemini-key-55555";
let fake: FakeProvider;
const sentBody = (i = 0) => fake.requests[i]?.body as Record<string, unknown>;

const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
const weather: FunctionTool = { type: "function", function: { name: "get_weather", description: "Current weather", parameters: schema } };
const time: FunctionTool = { type: "function", function: { name: "get_time" } };

beforeEach(async () => {
  fake = await startFakeProvider();
  resetConfiguration();
  configure({ LLM_PROVIDER: "gemini", LLM_MAX_RETRIES: 0, GEMINI_CONFIG: { api_key: API_KEY, base_url: fake.url, model: "gemini-2.5-flash" } });
});
afterEach(async () => {
  resetConfiguration();
  await fake.close();
});

describe("Gemini adapter: tools", () => {
  it("maps tools to function declarations (plain JSON Schema) and a named tool choice to ANY limited to it", async () => {
    await getLlmService().chat({ messages: [{ role: "user", content: "hi" }], tools: [weather, time], toolChoice: { type: "function", function: { name: "get_weather" } } });
    expect(sentBody()).toMatchObject({
      tools: [{ functionDeclarations: [{ name: "get_weather", description: "Current weather", parametersJsonSchema: schema }, { name: "get_time" }] }],
      toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } },
    });
  });

  it.each([
    ["auto", "AUTO"],
    ["none", "NONE"],
    ["required", "ANY"],
  ] as const)("maps tool choice %s to mode %s", async (choice, mode) => {
    await getLlmService().chat({ messages: [{ role: "user", content: "hi" }], tools: [weather], toolChoice: choice });
    expect(sentBody().toolConfig).toEqual({ functionCallingConfig: { mode } });
  });

  it("returns function calls as tool calls: args as JSON text, an id made up, the thought signature kept; not an empty answer", async () => {
    fake.enqueue({ body: loadFixture("gemini/generate-content-function-call") });
    const result = await getLlmService().chat({ messages: [{ role: "user", content: "Weather in Lisbon?" }], tools: [weather] });
    expect(result.content).toBe("");
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^llmt_call_/), name: "get_weather", arguments: '{"city":"Lisbon","unit":"celsius"}', thoughtSignature: "CpUBAdHtim8xQk2LtS0vNq4r7YdW1mZc3pT9eRb6uJgA5sHfK0oE8iPxVnC2yL7dM4qU" },
    ]);
    expect(result.usage).toMatchObject({ prompt_tokens: 58, completion_tokens: 65, reasoning_tokens: 47 });
  });

  it("continues a tool loop: functionCall parts with their signature, functionResponse parts named after the call, parallel answers in one turn", async () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Lisbon and the time?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "llmt_call_abc", name: "get_weather", arguments: '{"city":"Lisbon"}', thoughtSignature: "sig-1" },
          { id: "gemini-given-id", type: "function", function: { name: "get_time", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "llmt_call_abc", content: '{"temp_c":19}' },
      { role: "tool", tool_call_id: "gemini-given-id", content: "14:05" },
      { role: "user", content: "Thanks" },
    ];
    await getLlmService().chat({ messages, tools: [weather, time] });
    expect(sentBody().contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Lisbon and the time?" }] },
      {
        role: "model",
        parts: [
          { text: "Checking." },
          // Our made-up id is not sent; Gemini's own id is.
          { functionCall: { name: "get_weather", args: { city: "Lisbon" } }, thoughtSignature: "sig-1" },
          { functionCall: { name: "get_time", args: {}, id: "gemini-given-id" } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "get_weather", response: { temp_c: 19 } } },
          { functionResponse: { name: "get_time", response: { output: "14:05" }, id: "gemini-given-id" } },
        ],
      },
      { role: "user", parts: [{ text: "Thanks" }] },
    ]);
  });

  it("a tool result naming no earlier call, or arguments that are not a JSON object, throw before any request", async () => {
    const orphan: ChatMessage[] = [
      { role: "user", content: "hi" },
      { role: "tool", tool_call_id: "nope", content: "x" },
    ];
    await expect(getLlmService().chat({ messages: orphan })).rejects.toThrow(new InvalidInputError("messages[1].tool_call_id", "names no tool call of an earlier assistant message"));
    const badArgs: ChatMessage[] = [
      { role: "user", content: "hi" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", name: "get_weather", arguments: "[1,2]" }] },
    ];
    await expect(getLlmService().chat({ messages: badArgs })).rejects.toThrow(/messages\[1\]\.tool_calls\[0\]\.arguments: must be a JSON object/);
    expect(fake.requests).toEqual([]);
  });

  it("streams from :streamGenerateContent?alt=sse with the same body", async () => {
    fake.enqueue({ stream: { sse: loadSse("gemini/stream-basic") } });
    const opened = await getLlmService().openStream({ messages: [{ role: "user", content: "hi" }], tools: [weather] });
    for (let step = await opened.chunks.next(); !step.done; step = await opened.chunks.next());
    expect(fake.requests[0]?.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    expect(fake.requests[0]?.search).toBe("?alt=sse");
    expect(sentBody()).toMatchObject({ contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: [{ functionDeclarations: [{ name: "get_weather" }] }] });
  });
});
