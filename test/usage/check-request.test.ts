import { describe, expect, it } from "vitest";
import { EmptyMessagesError } from "../../src/errors/empty-messages-error.js";
import { InvalidInputError } from "../../src/errors/invalid-input-error.js";
import { checkChatRequest } from "../../src/usage/check-request.js";

const user = { role: "user", content: "hi" };

describe("checking a tracked call's messages and tools", () => {
  it("accepts chat messages and a tool loop in either tool-call shape", () => {
    expect(() =>
      checkChatRequest(
        [
          { role: "system", content: "s" },
          user,
          { role: "assistant", content: null, tool_calls: [{ id: "a", name: "f", arguments: "{}" }, { id: "b", type: "function", function: { name: "g", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "a", content: "1" },
          { role: "assistant", content: "done" },
        ],
        [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
        "required",
      ),
    ).not.toThrow();
  });

  it.each([
    [undefined, EmptyMessagesError, "Messages cannot be empty"],
    [[], EmptyMessagesError, "Messages cannot be empty"],
    [[null], InvalidInputError, "messages[0]: must be a { role, content } object"],
    [[{ role: "robot", content: "x" }], InvalidInputError, "messages[0].role: must be system, user, assistant or tool"],
    [[{ role: "user", content: ["parts"] }], InvalidInputError, "messages[0].content: must be a string"],
    [[user, { role: "assistant", content: null }], InvalidInputError, "messages[1].content: must be a string (or null beside tool_calls)"],
    [[user, { role: "assistant", content: null, tool_calls: [{ id: "", name: "f", arguments: "{}" }] }], InvalidInputError, "messages[1].tool_calls[0].id: must be a non-empty string"],
    [[user, { role: "assistant", content: null, tool_calls: [{ id: "a", name: "f", arguments: {} }] }], InvalidInputError, "messages[1].tool_calls[0].arguments: must be the arguments' JSON text"],
    [[user, { role: "tool", content: "1" }], InvalidInputError, "messages[1].tool_call_id: must name the tool call this answers"],
    [[user, { role: "tool", tool_call_id: "a", content: "1" }], InvalidInputError, "messages[1].tool_call_id: names no tool call of an earlier assistant message"],
    [
      [user, { role: "assistant", content: null, tool_calls: [{ id: "a", name: "f", arguments: "{}" }] }, { role: "tool", tool_call_id: "a", content: 1 }],
      InvalidInputError,
      "messages[2].content: must be a string (the tool's result)",
    ],
  ])("%j is refused: %s", (messages, type, message) => {
    expect(() => checkChatRequest(messages)).toThrow(type);
    expect(() => checkChatRequest(messages)).toThrow(message);
  });

  it.each([
    [{ type: "function" }, "tools[0]: must be"],
    [{ type: "function", function: { name: "" } }, "tools[0].function.name: must be a non-empty string"],
    [{ type: "function", function: { name: "f", parameters: "string" } }, "tools[0].function.parameters: must be a JSON Schema object"],
  ])("a malformed tool %j is refused", (tool, message) => {
    expect(() => checkChatRequest([user], [tool])).toThrow(message);
  });

  it("a malformed tool choice is refused", () => {
    expect(() => checkChatRequest([user], undefined, "always")).toThrow('toolChoice: must be "auto", "none", "required" or { type: "function", function: { name } }');
    expect(() => checkChatRequest([user], undefined, { type: "function", function: {} })).toThrow(InvalidInputError);
  });
});
