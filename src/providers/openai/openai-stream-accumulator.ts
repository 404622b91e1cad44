// Folds OpenAI / Azure chat completion chunks into the answer so far: text, tool calls
// assembled from their argument deltas, the finish reason and the usage chunk.
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import type { StreamAccumulator, StreamSnapshot, ToolCall, Usage } from "../types.js";
import { convertOpenAIUsage } from "./convert-openai-usage.js";

interface ToolCallDraft {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Pure, one instance per stream. What the wire does that this handles:
 * - usage arrives once, in an extra last chunk with `choices: []` (only when the request
 *   asked for `stream_options.include_usage`); earlier chunks carry `usage: null`;
 * - Azure's first chunk has `choices: []`, `model: ""` and `prompt_filter_results`, and its
 *   content-filter annotation chunks (no `delta`, `model: ""`) may come after the finish
 *   chunk: neither is output, and neither may overwrite the model;
 * - a tool call starts with a delta holding its `index`, `id` and `function.name`; its
 *   arguments follow as text fragments under the same `index`.
 */
export class OpenAIStreamAccumulator implements StreamAccumulator<ChatCompletionChunk> {
  private readonly texts: string[] = [];
  private readonly drafts: ToolCallDraft[] = [];
  private refusal = false;
  private model: string | null = null;
  private finishReason: string | null = null;
  private usage: Usage | null = null;

  constructor(private readonly requestedModel: string) {}

  add(chunk: ChatCompletionChunk): string | null {
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.usage = convertOpenAIUsage(chunk.usage, chunk.model || this.model || this.requestedModel).usage;
    const choice = chunk.choices?.[0];
    if (choice === undefined) return null;
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const delta = choice.delta;
    if (delta == null) return null;
    let output: string | null = null;
    if (delta.tool_calls) {
      for (const part of delta.tool_calls) this.addToolCallDelta(part);
      output = "";
    }
    if (delta.refusal) {
      this.refusal = true;
      output ??= "";
    }
    const text = delta.content;
    if (typeof text === "string" && text !== "") {
      this.texts.push(text);
      return text;
    }
    return output;
  }

  snapshot(): StreamSnapshot {
    const content = this.texts.join("");
    const toolCalls: ToolCall[] = this.drafts.filter((d) => d !== undefined).map((d) => ({ id: d.id, name: d.name, arguments: d.arguments }));
    // The usage chunk comes last: seeing it means the answer is complete even if [DONE] was lost.
    const finished = this.usage !== null || this.finishReason !== null;
    return {
      model: this.model,
      content,
      toolCalls,
      usage: this.usage,
      completionReported: this.usage !== null,
      finished,
      emptyReason: finished ? this.emptyReason(content, toolCalls.length) : null,
    };
  }

  private addToolCallDelta(part: NonNullable<ChatCompletionChunk.Choice.Delta["tool_calls"]>[number]): void {
    const index = part.index ?? this.drafts.length;
    let draft = this.drafts[index];
    if (draft === undefined) {
      draft = { id: "", name: "", arguments: "" };
      this.drafts[index] = draft;
    }
    if (part.id) draft.id = part.id;
    const fn = part.function;
    if (fn) {
      if (fn.name) draft.name = draft.name === "" ? fn.name : draft.name;
      if (fn.arguments) draft.arguments += fn.arguments;
    }
  }

  /** The same rules as a non-streamed answer (openAIEmptyReason). */
  private emptyReason(content: string, toolCalls: number): string | null {
    if (this.finishReason === "content_filter") return "content_filter";
    if (this.refusal) return "refusal";
    if (content !== "" || toolCalls > 0) return null;
    if (this.finishReason && this.finishReason !== "stop") return this.finishReason;
    return "empty_content";
  }
}
