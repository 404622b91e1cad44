// An estimate of the prompt tokens of a chat request, for a stream that ended before the
// provider reported usage.
import type { AssistantToolCall, ChatMessage, FunctionTool } from "../providers/types.js";
import { countTokens } from "./count-tokens.js";

/**
 * How the provider frames a chat: OpenAI adds a few tokens per message around the text
 * (the "3 per message, 3 to prime the reply" rule of OpenAI's cookbook); Gemini counts the
 * parts' text alone.
 */
export type PromptFraming = "openai" | "gemini";

const OPENAI_TOKENS_PER_MESSAGE = 3;
const OPENAI_REPLY_PRIMING = 3;

function callText(call: AssistantToolCall): string {
  return "function" in call ? `${call.function.name}${call.function.arguments}` : `${call.name}${call.arguments}`;
}

/**
 * Text tokens of every message (tool calls as name + arguments, tool results as their text),
 * plus the tool definitions as JSON text; with `openai` framing, the per-message overhead.
 * Tool definitions are formatted differently by each provider before counting, so their
 * share is the least exact part.
 */
export function estimatePromptTokens(messages: readonly ChatMessage[], tools: readonly FunctionTool[] | undefined, model: string, framing: PromptFraming): number {
  let total = framing === "openai" ? OPENAI_REPLY_PRIMING : 0;
  for (const message of messages) {
    if (framing === "openai") total += OPENAI_TOKENS_PER_MESSAGE + countTokens(message.role, model);
    if (message.content) total += countTokens(message.content, model);
    if (message.role === "assistant" && message.tool_calls) {
      for (const call of message.tool_calls) total += countTokens(callText(call), model);
    }
  }
  if (tools && tools.length > 0) total += countTokens(JSON.stringify(tools.map((tool) => tool.function)), model);
  return total;
}
