// The text of a request the SDK was asked to send, for estimating its prompt tokens when
// a stream ends before the provider reported usage.
import { countTokens } from "../estimate/count-tokens.js";

// Keys whose string values are text the model reads (messages, parts, Responses input items,
// tool calls and their results); ids, roles, types and URLs are left out.
const TEXT_KEYS = new Set(["text", "content", "input", "instructions", "arguments", "output", "name", "description", "parameters", "args", "response", "system", "systemInstruction", "contents", "parts", "messages", "tools", "functionCall", "functionResponse", "function", "tool_calls"]);

/** Every piece of text in a request value: bare strings, and strings under text-bearing keys. */
export function requestText(value: unknown, into: string[] = [], depth = 0): string[] {
  if (depth > 20 || value == null) return into;
  if (typeof value === "string") {
    into.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) requestText(item, into, depth + 1);
  } else if (typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (!TEXT_KEYS.has(key)) continue;
      // JSON schemas and argument objects count as the JSON text the provider formats them into.
      if ((key === "parameters" || key === "args" || key === "response") && typeof inner === "object" && inner !== null) into.push(JSON.stringify(inner));
      else requestText(inner, into, depth + 1);
    }
  }
  return into;
}

/** Tokens of a request's text (plus `perItem` framing tokens for each message or item), in `model`'s encoding. */
export function estimateRequestTokens(parts: unknown[], model: string, perItem = 0): number {
  let total = 0;
  for (const part of parts) {
    if (part === undefined) continue;
    const items = Array.isArray(part) ? part : [part];
    for (const item of items) total += perItem + countTokens(requestText(item).join("\n"), model);
  }
  return total;
}
