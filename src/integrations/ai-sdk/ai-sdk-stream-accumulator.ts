// Folds AI SDK V3 stream parts into the answer so far: text, tool calls, the response's
// model, and the usage of the `finish` part.
import type { StreamAccumulator, StreamSnapshot, ToolCall, Usage } from "../../providers/types.js";
import { convertAiSdkUsage, type AiSdkUsage } from "./convert-ai-sdk-usage.js";

/** The fields of a LanguageModelV3StreamPart read here. */
export interface AiSdkStreamPart {
  type: string;
  delta?: string;
  modelId?: string;
  usage?: AiSdkUsage;
  toolCallId?: string;
  toolName?: string;
  input?: string;
  error?: unknown;
}

/**
 * Pure, one instance per stream. The provider package has already parsed the wire: text
 * arrives as `text-delta`, tool calls as `tool-input-*` deltas then a whole `tool-call`, the
 * model as `response-metadata`, usage once on `finish`; a provider error midway is an `error`
 * part (the stream itself does not throw).
 */
export class AiSdkStreamAccumulator implements StreamAccumulator<AiSdkStreamPart> {
  private readonly texts: string[] = [];
  private readonly toolCalls: ToolCall[] = [];
  private model: string | null = null;
  private usage: Usage | null = null;
  private finished = false;
  /** The `error` part's error, when one came. */
  error: unknown = undefined;

  constructor(private readonly requestedModel: string) {}

  add(part: AiSdkStreamPart): string | null {
    switch (part.type) {
      case "response-metadata":
        if (part.modelId) this.model = part.modelId;
        return null;
      case "text-delta":
        if (typeof part.delta === "string" && part.delta !== "") {
          this.texts.push(part.delta);
          return part.delta;
        }
        return null;
      case "tool-input-start":
      case "tool-input-delta":
        return "";
      case "tool-call":
        this.toolCalls.push({ id: part.toolCallId ?? "", name: part.toolName ?? "", arguments: part.input ?? "" });
        return "";
      case "finish": {
        this.finished = true;
        const converted = convertAiSdkUsage(part.usage, this.model ?? this.requestedModel);
        if (converted.usageReported) this.usage = converted.usage;
        return null;
      }
      case "error":
        this.finished = true;
        this.error = part.error;
        return null;
      default:
        return null;
    }
  }

  snapshot(): StreamSnapshot {
    return {
      model: this.model,
      content: this.texts.join(""),
      toolCalls: this.toolCalls.map((call) => ({ ...call })),
      usage: this.usage,
      completionReported: this.usage !== null,
      finished: this.finished,
      emptyReason: this.error === undefined ? null : "error",
    };
  }
}
