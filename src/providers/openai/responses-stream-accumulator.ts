// Folds OpenAI Responses API stream events into the answer so far: output text, function
// calls, the model, and the usage of the terminal event.
import type { StreamAccumulator, StreamSnapshot, ToolCall, Usage } from "../types.js";
import { convertResponsesUsage, type OpenAIResponsesUsage } from "./convert-responses-usage.js";

/** The fields of a Responses stream event read here (the SDK's ResponseStreamEvent union, loosely). */
export interface ResponsesStreamEvent {
  type: string;
  delta?: string;
  item_id?: string;
  output_index?: number;
  item?: { type?: string; id?: string; call_id?: string; name?: string; arguments?: string };
  response?: {
    model?: string;
    status?: string;
    usage?: OpenAIResponsesUsage | null;
    error?: { code?: string | null; message?: string } | null;
    incomplete_details?: { reason?: string | null } | null;
  };
  code?: string | null;
  message?: string;
}

// Events after which the provider sends nothing more for this response.
const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

/**
 * Pure, one instance per stream. What the wire does that this handles:
 * - the model and `usage: null` come first (`response.created`); the usage arrives once, on
 *   the terminal event (`response.completed`, `response.incomplete` or `response.failed`);
 * - text arrives as `response.output_text.delta`; a function call starts with
 *   `response.output_item.added` (its name and call id) and its arguments follow as
 *   `response.function_call_arguments.delta` under the item's id;
 * - an `error` event (and `response.failed`) ends the response without an answer.
 */
export class ResponsesStreamAccumulator implements StreamAccumulator<ResponsesStreamEvent> {
  private readonly texts: string[] = [];
  private readonly calls = new Map<string, ToolCall>();
  private model: string | null = null;
  private usage: Usage | null = null;
  private finished = false;
  private failure: string | null = null;

  constructor(private readonly requestedModel: string) {}

  add(event: ResponsesStreamEvent): string | null {
    const response = event.response;
    if (response?.model) this.model = response.model;
    switch (event.type) {
      case "response.output_text.delta":
        if (typeof event.delta === "string" && event.delta !== "") {
          this.texts.push(event.delta);
          return event.delta;
        }
        return null;
      case "response.refusal.delta":
        return "";
      case "response.output_item.added":
        if (event.item?.type === "function_call" && event.item.id) {
          this.calls.set(event.item.id, { id: event.item.call_id ?? event.item.id, name: event.item.name ?? "", arguments: event.item.arguments ?? "" });
          return "";
        }
        return null;
      case "response.function_call_arguments.delta": {
        const call = event.item_id ? this.calls.get(event.item_id) : undefined;
        if (call && typeof event.delta === "string") call.arguments += event.delta;
        return "";
      }
      case "error":
        this.finished = true;
        this.failure = `error:${event.code ?? "unknown"}`;
        return null;
      default:
        if (TERMINAL.has(event.type)) {
          this.finished = true;
          if (response?.usage) this.usage = convertResponsesUsage(response.usage, response.model || this.model || this.requestedModel).usage;
          if (event.type === "response.failed") this.failure = `failed:${response?.error?.code ?? "unknown"}`;
        }
        return null;
    }
  }

  snapshot(): StreamSnapshot {
    return {
      model: this.model,
      content: this.texts.join(""),
      toolCalls: [...this.calls.values()].map((call) => ({ ...call })),
      usage: this.usage,
      completionReported: this.usage !== null,
      finished: this.finished,
      emptyReason: this.failure,
    };
  }
}
