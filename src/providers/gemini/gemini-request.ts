// Maps our ChatRequest to @google/genai's generateContent parameters.
import type { Content, GenerateContentConfig, GenerateContentParameters } from "@google/genai";
import type { ChatRequest } from "../types.js";

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
function responseFormatConfig(request: ChatRequest): GenerateContentConfig {
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

export function toGeminiParams(request: ChatRequest, defaults: GeminiDefaults): GenerateContentParameters {
  const system = request.messages.filter((m) => m.role === "system");
  const contents: Content[] = request.messages
    .filter((m) => m.role !== "system")
    .map((m) => ({ role: m.role === "assistant" ? "model" : "user", parts: [{ text: m.content }] }));
  const temperature = request.temperature ?? defaults.temperature;
  return {
    model: defaults.model,
    contents,
    config: {
      ...(system.length > 0 ? { systemInstruction: { parts: system.map((m) => ({ text: m.content })) } } : {}),
      maxOutputTokens: request.maxTokens ?? defaults.maxTokens,
      ...(temperature === undefined ? {} : { temperature }),
      ...responseFormatConfig(request),
    },
  };
}
