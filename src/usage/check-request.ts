// Checks the messages and tools of a tracked call at the edge, before any provider call:
// a malformed one throws (nothing is sent, nothing recorded), naming the field.
import { EmptyMessagesError } from "../errors/empty-messages-error.js";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import type { ChatMessage, FunctionTool, ToolChoice } from "../providers/types.js";

const isText = (value: unknown): value is string => typeof value === "string";

function checkToolCall(call: unknown, where: string): void {
  if (typeof call !== "object" || call === null) throw new InvalidInputError(where, "must be a tool call object");
  const c = call as Record<string, unknown>;
  if (!isText(c.id) || c.id === "") throw new InvalidInputError(`${where}.id`, "must be a non-empty string");
  const fn = (typeof c.function === "object" && c.function !== null ? c.function : c) as Record<string, unknown>;
  if (!isText(fn.name) || fn.name === "") throw new InvalidInputError(`${where}.name`, "must be a non-empty string");
  if (!isText(fn.arguments)) throw new InvalidInputError(`${where}.arguments`, "must be the arguments' JSON text");
}

/**
 * Throws `EmptyMessagesError` for missing or empty messages and `InvalidInputError` (naming
 * e.g. `messages[2].tool_call_id`) for a message, tool or tool choice of the wrong shape.
 */
export function checkChatRequest(messages: unknown, tools?: unknown, toolChoice?: unknown): asserts messages is ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw new EmptyMessagesError();
  // Ids of the tool calls made so far: a tool message answers one of them (both providers refuse it otherwise).
  let callIds: Set<string> | undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Record<string, unknown> | null;
    const where = `messages[${i}]`;
    if (typeof message !== "object" || message === null) throw new InvalidInputError(where, "must be a { role, content } object");
    switch (message.role) {
      case "system":
      case "user":
        if (!isText(message.content)) throw new InvalidInputError(`${where}.content`, "must be a string");
        break;
      case "assistant": {
        const calls = message.tool_calls;
        if (calls !== undefined && calls !== null) {
          if (!Array.isArray(calls)) throw new InvalidInputError(`${where}.tool_calls`, "must be an array");
          calls.forEach((call, j) => {
            checkToolCall(call, `${where}.tool_calls[${j}]`);
            (callIds ??= new Set()).add((call as { id: string }).id);
          });
        }
        const hasCalls = Array.isArray(calls) && calls.length > 0;
        if (!isText(message.content) && !(hasCalls && message.content == null)) throw new InvalidInputError(`${where}.content`, "must be a string (or null beside tool_calls)");
        break;
      }
      case "tool":
        if (!isText(message.tool_call_id) || message.tool_call_id === "") throw new InvalidInputError(`${where}.tool_call_id`, "must name the tool call this answers");
        if (!callIds?.has(message.tool_call_id)) throw new InvalidInputError(`${where}.tool_call_id`, "names no tool call of an earlier assistant message");
        if (!isText(message.content)) throw new InvalidInputError(`${where}.content`, "must be a string (the tool's result)");
        break;
      default:
        throw new InvalidInputError(`${where}.role`, "must be system, user, assistant or tool");
    }
  }
  if (tools !== undefined) checkTools(tools);
  if (toolChoice !== undefined) checkToolChoice(toolChoice);
}

function checkTools(tools: unknown): asserts tools is FunctionTool[] {
  if (!Array.isArray(tools)) throw new InvalidInputError("tools", "must be an array of function tools");
  tools.forEach((tool: unknown, i) => {
    const t = tool as { type?: unknown; function?: { name?: unknown; parameters?: unknown } } | null;
    if (t?.type !== "function" || typeof t.function !== "object" || t.function === null) throw new InvalidInputError(`tools[${i}]`, 'must be { type: "function", function: { name, description?, parameters? } }');
    if (!isText(t.function.name) || t.function.name === "") throw new InvalidInputError(`tools[${i}].function.name`, "must be a non-empty string");
    const parameters = t.function.parameters;
    if (parameters !== undefined && (typeof parameters !== "object" || parameters === null || Array.isArray(parameters))) throw new InvalidInputError(`tools[${i}].function.parameters`, "must be a JSON Schema object");
  });
}

function checkToolChoice(choice: unknown): asserts choice is ToolChoice {
  if (choice === "auto" || choice === "none" || choice === "required") return;
  const c = choice as { type?: unknown; function?: { name?: unknown } } | null;
  if (c?.type === "function" && isText(c.function?.name) && c.function.name !== "") return;
  throw new InvalidInputError("toolChoice", 'must be "auto", "none", "required" or { type: "function", function: { name } }');
}
