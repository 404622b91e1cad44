// Maps our ChatRequest to @google/genai's generateContent parameters.
import type { Content, GenerateContentConfig, GenerateContentParameters, Part } from "@google/genai";
import { InvalidInputError } from "../../errors/invalid-input-error.js";
import type { AssistantToolCall, ChatMessage, ChatRequest } from "../types.js";
import { isMadeUpCallId, toGeminiToolConfig, toGeminiTools } from "./gemini-tools.js";

export interface GeminiDefaults {
  model: string;
  maxTokens: number;
  temperature: number | undefined;
}

/**
 * The response format, in Gemini's terms. An OpenAI-style `{ type: "json_schema", json_schema: { schema } }`
 * becomes `responseMimeType` JSON + `responseJsonSchema` (plain JSON Schema, as OpenAI takes it);
 * `{ type: "json_object" }` is JSON mode; an object without `type` is taken as Gemini's own config fields.
 */
function responseFormatConfig(request: Omit<ChatRequest, "rawResponse">): GenerateContentConfig {
  const format = request.responseFormat;
  if (format === undefined) return request.jsonMode ? { responseMimeType: "application/json" } : {};
  if (format.type === "json_schema") {
    const schema = (format.json_schema as { schema?: unknown } | undefined)?.schema;
    return { responseMimeType: "application/json", ...(schema === undefined ? {} : { responseJsonSchema: schema }) };
  }
  if (format.type === "json_object") return { responseMimeType: "application/json" };
  if (format.type === "text") return {};
  return format as GenerateContentConfig;
}

function callParts(call: AssistantToolCall): { id: string; name: string; argumentsText: string; thoughtSignature?: string } {
  return "function" in call
    ? { id: call.id, name: call.function.name, argumentsText: call.function.arguments, thoughtSignature: call.thoughtSignature }
    : { id: call.id, name: call.name, argumentsText: call.arguments, thoughtSignature: call.thoughtSignature };
}

/** Gemini takes a call's arguments as an object, so the JSON text must parse to one. */
function parseArguments(text: string, where: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(where, "is not JSON text (Gemini takes a call's arguments as a JSON object)");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidInputError(where, "must be a JSON object (Gemini takes a call's arguments as an object)");
  return value as Record<string, unknown>;
}

/** A function's result as Gemini's `response` object: a JSON object as it is, anything else under `output`. */
function toResponseObject(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // plain text: kept as the output
  }
  return { output: content };
}

/**
 * Messages → contents. An assistant message's tool calls become `functionCall` parts (with their
 * thought signature); a tool message becomes a `functionResponse` part named after the call its
 * `tool_call_id` answers (Gemini matches by name, so the name is looked up in the earlier
 * assistant messages); consecutive tool messages share one turn, as Gemini expects the answers
 * to parallel calls together.
 */
export function toGeminiContents(messages: readonly ChatMessage[]): Content[] {
  const contents: Content[] = [];
  const callNames = new Map<string, string>();
  let toolTurn: Part[] | undefined;
  messages.forEach((message, i) => {
    if (message.role !== "tool") toolTurn = undefined;
    switch (message.role) {
      case "system":
        return;
      case "user":
        contents.push({ role: "user", parts: [{ text: message.content }] });
        return;
      case "assistant": {
        const parts: Part[] = [];
        if (message.content) parts.push({ text: message.content });
        (message.tool_calls ?? []).forEach((call, j) => {
          const { id, name, argumentsText, thoughtSignature } = callParts(call);
          callNames.set(id, name);
          const args = parseArguments(argumentsText, `messages[${i}].tool_calls[${j}].arguments`);
          parts.push({ functionCall: { name, args, ...(isMadeUpCallId(id) ? {} : { id }) }, ...(thoughtSignature ? { thoughtSignature } : {}) });
        });
        if (parts.length === 0) parts.push({ text: "" });
        contents.push({ role: "model", parts });
        return;
      }
      case "tool": {
        const name = callNames.get(message.tool_call_id);
        if (name === undefined) throw new InvalidInputError(`messages[${i}].tool_call_id`, "names no tool call of an earlier assistant message");
        const part: Part = {
          functionResponse: { name, response: toResponseObject(message.content), ...(isMadeUpCallId(message.tool_call_id) ? {} : { id: message.tool_call_id }) },
        };
        if (toolTurn) {
          toolTurn.push(part);
        } else {
          toolTurn = [part];
          contents.push({ role: "user", parts: toolTurn });
        }
        return;
      }
    }
  });
  return contents;
}

export function toGeminiParams(request: Omit<ChatRequest, "rawResponse">, defaults: GeminiDefaults): GenerateContentParameters {
  const system = request.messages.filter((m) => m.role === "system");
  const temperature = request.temperature ?? defaults.temperature;
  const tools = request.tools && request.tools.length > 0 ? request.tools : undefined;
  return {
    model: defaults.model,
    contents: toGeminiContents(request.messages),
    config: {
      ...(system.length > 0 ? { systemInstruction: { parts: system.map((m) => ({ text: m.content })) } } : {}),
      maxOutputTokens: request.maxTokens ?? defaults.maxTokens,
      ...(temperature === undefined ? {} : { temperature }),
      ...responseFormatConfig(request),
      ...(tools === undefined ? {} : { tools: toGeminiTools(tools) }),
      ...(request.toolChoice === undefined ? {} : { toolConfig: toGeminiToolConfig(request.toolChoice) }),
    },
  };
}
