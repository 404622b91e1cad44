// Tools in Gemini's terms: OpenAI-shaped function tools → function declarations, a tool
// choice → functionCallingConfig, and the function calls of a response → our ToolCalls.
import { randomUUID } from "node:crypto";
import { FunctionCallingConfigMode, type Part, type Tool, type ToolConfig } from "@google/genai";
import type { FunctionTool, ToolCall, ToolChoice } from "../types.js";

/**
 * Prefix of the ids we make up for Gemini's calls (the Gemini API gives none): such an id is
 * never sent back to Gemini, which matches function responses to calls by name and order.
 */
export const MADE_UP_CALL_ID_PREFIX = "llmt_call_";

export function isMadeUpCallId(id: string): boolean {
  return id.startsWith(MADE_UP_CALL_ID_PREFIX);
}

/**
 * The parameters go in `parametersJsonSchema` (plain JSON Schema, as OpenAI takes it), not
 * `parameters` (Gemini's OpenAPI subset, which rejects keywords such as `additionalProperties`).
 */
export function toGeminiTools(tools: readonly FunctionTool[]): Tool[] {
  return [
    {
      functionDeclarations: tools.map((tool) => ({
        name: tool.function.name,
        ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
        ...(tool.function.parameters === undefined ? {} : { parametersJsonSchema: tool.function.parameters }),
      })),
    },
  ];
}

/** `auto` → AUTO, `none` → NONE, `required` → ANY, one named function → ANY limited to it. */
export function toGeminiToolConfig(choice: ToolChoice): ToolConfig {
  if (choice === "auto") return { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } };
  if (choice === "none") return { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } };
  if (choice === "required") return { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } };
  return { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: [choice.function.name] } };
}

/** A `functionCall` part as our ToolCall: args serialised to JSON text, an id made up when Gemini gave none. */
export function geminiToolCall(part: Part): ToolCall | null {
  const call = part.functionCall;
  if (!call) return null;
  const toolCall: ToolCall = {
    id: call.id || `${MADE_UP_CALL_ID_PREFIX}${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    name: call.name ?? "",
    arguments: JSON.stringify(call.args ?? {}),
  };
  if (part.thoughtSignature) toolCall.thoughtSignature = part.thoughtSignature;
  return toolCall;
}
