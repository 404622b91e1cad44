// The stream LLMTracker.streamAndTrack hands back: the caller iterates text deltas; whichever
// way the stream ends (finished, provider error, connection lost, signal, `break`, shutdown,
// process exit), it ends exactly once, and that end is handed to `finish` (which records the
// one usage event) before `result` settles. Provider-neutral: it reads an OpenedStream.
import { EmptyResponseError } from "../errors/empty-response-error.js";
import { StreamInterruptedError, type StreamInterruption } from "../errors/stream-interrupted-error.js";
import type { OpenedStream, StreamSnapshot, ToolCall, Usage } from "../providers/types.js";
import { addOpenStream, removeOpenStream, type EndableStream } from "./open-streams.js";

export interface StreamAndTrackResult {
  /** The answer text (the joined deltas); `""` when the answer is only tool calls. */
  content: string;
  usage: Usage;
  /** Tool calls, arguments assembled from their deltas; `[]` when none. */
  toolCalls: ToolCall[];
}

/** Why a stream ended early, as recorded in the event's `error`. */
export type EndCause = StreamInterruption | "signal_aborted" | "provider_error" | "connection_lost" | "timed_out" | "stream_failed";

export type StreamEnding =
  | { kind: "completed" }
  /** The provider finished, but the answer is unusable (content filter, refusal, blocked prompt, nothing). */
  | { kind: "empty"; reason: string }
  | { kind: "failed"; cause: EndCause; error: unknown };

export interface StreamEnd {
  ending: StreamEnding;
  snapshot: StreamSnapshot;
  /** From the call's start to the first text or tool-call delta; null when none came. */
  timeToFirstTokenMs: number | null;
  /** From the call's start to the end. */
  latencyMs: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const NOTHING = Symbol("nothing to throw");
const noop = () => {};

/** Socket-level failures of undici / Node: the connection went away under the stream. */
const CONNECTION_CODES = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "ETIMEDOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_ABORTED", "ECONNABORTED"]);

export function isConnectionLoss(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
    if (e instanceof TypeError && (e.message === "terminated" || e.message === "fetch failed")) return true;
  }
  return false;
}

/** The tracked stream: `for await (const text of stream)`, then `await stream.result`. */
export class TrackedStream implements AsyncIterableIterator<string>, EndableStream {
  /**
   * Made when `result` is first taken, not before: most callers take it after the loop, when
   * the outcome is known, and a stream nobody asks the result of needs no promise at all.
   */
  private resultPromise: Promise<StreamAndTrackResult> | undefined;
  private outcome: { ok: true; value: StreamAndTrackResult } | { ok: false; error: unknown } | undefined;
  private settled = false;
  private reading = false;
  private readScheduled = false;
  private pendingThrow: unknown = NOTHING;
  private firstTokenMs: number | null = null;
  private resolveResult: ((value: StreamAndTrackResult) => void) | undefined;
  private rejectResult: ((reason: unknown) => void) | undefined;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly opened: OpenedStream,
    /** performance.now() when the call started: TTFT and latency count from it. */
    private readonly started: number,
    /** Records the end (one usage event); returns the usage it recorded. Must not throw. */
    private readonly finish: (end: StreamEnd) => Usage,
    private readonly signal?: AbortSignal,
  ) {
    addOpenStream(this);
    if (signal) {
      this.onAbort = () => this.end({ kind: "failed", cause: "signal_aborted", error: signal.reason }, true);
      if (signal.aborted) this.onAbort();
      else signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  /**
   * Resolves to `{ content, usage, toolCalls }` once the stream has ended; rejects with the
   * error that ended it early (the same object the iteration threw). Never an unhandled
   * rejection when nobody awaits it. Taken while nobody reads the stream (and nobody starts
   * to in the same turn of the event loop), it reads the stream itself: a caller that only
   * wants the final answer would otherwise wait forever.
   */
  get result(): Promise<StreamAndTrackResult> {
    if (!this.reading && !this.settled && !this.readScheduled) {
      this.readScheduled = true;
      setImmediate(() => void this.readIfUnread());
    }
    this.resultPromise ??= this.makeResultPromise();
    return this.resultPromise;
  }

  private makeResultPromise(): Promise<StreamAndTrackResult> {
    const outcome = this.outcome;
    const promise =
      outcome === undefined
        ? new Promise<StreamAndTrackResult>((resolve, reject) => {
            this.resolveResult = resolve;
            this.rejectResult = reject;
          })
        : outcome.ok
          ? Promise.resolve(outcome.value)
          : Promise.reject(outcome.error);
    // Handled here: a caller that takes `result` without awaiting it must never see an unhandled rejection.
    promise.catch(noop);
    return promise;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<string, undefined>> {
    this.reading = true;
    const { chunks, accumulator } = this.opened;
    while (!this.settled) {
      let step: IteratorResult<unknown>;
      try {
        step = await chunks.next();
      } catch (error) {
        // An error after the end (our own cancel) is not news; the end already said why.
        if (!this.settled) this.end({ kind: "failed", cause: this.causeOf(error), error }, true);
        break;
      }
      if (this.settled) break;
      if (step.done) {
        this.endAtStreamEnd();
        break;
      }
      const text = accumulator.add(step.value);
      if (text === null) continue;
      if (this.firstTokenMs === null) this.firstTokenMs = performance.now() - this.started;
      if (text !== "") return { done: false, value: text };
    }
    return this.afterEnd();
  }

  /** `break` (or a throw) in the caller's loop: the stream ends here, recorded as stopped by the caller. */
  async return(): Promise<IteratorResult<string, undefined>> {
    this.reading = true;
    this.end({ kind: "failed", cause: "caller_stopped", error: new StreamInterruptedError("caller_stopped") }, false);
    this.pendingThrow = NOTHING;
    return DONE;
  }

  /** Ends the stream now (shutdown, process exit); a pending or later `next()` throws the interruption. */
  interrupt(reason: StreamInterruption): void {
    this.end({ kind: "failed", cause: reason, error: new StreamInterruptedError(reason) }, true);
  }

  private async readIfUnread(): Promise<void> {
    if (this.reading || this.settled) return;
    try {
      while (!(await this.next()).done);
    } catch {
      // `result` carries the error.
    }
  }

  private causeOf(error: unknown): EndCause {
    if (this.opened.isProviderError(error)) return "provider_error";
    if (isConnectionLoss(error)) return "connection_lost";
    // Not the caller's signal nor our cancel (either would have ended the stream first): the
    // SDK's own timeout (@google/genai's covers the whole response).
    const name = (error as { name?: unknown } | null)?.name;
    return name === "AbortError" || name === "TimeoutError" ? "timed_out" : "stream_failed";
  }

  /**
   * The SDK's iteration ended without an error. That is not proof the answer is complete:
   * openai's iterator also ends quietly when its request is aborted, and a response cut
   * cleanly by a proxy ends the same way. Complete means the provider said so.
   */
  private endAtStreamEnd(): void {
    const snapshot = this.opened.accumulator.snapshot();
    if (this.signal?.aborted) this.end({ kind: "failed", cause: "signal_aborted", error: this.signal.reason }, true, snapshot);
    else if (!snapshot.finished) this.end({ kind: "failed", cause: "connection_closed", error: new StreamInterruptedError("connection_closed") }, true, snapshot);
    else if (snapshot.emptyReason !== null) this.end({ kind: "empty", reason: snapshot.emptyReason }, true, snapshot);
    else this.end({ kind: "completed" }, false, snapshot);
  }

  /** Settles once: records the event, then resolves or rejects `result`; later calls do nothing. */
  private end(ending: StreamEnding, throwToReader: boolean, snapshot = this.opened.accumulator.snapshot()): void {
    if (this.settled) return;
    this.settled = true;
    removeOpenStream(this);
    if (this.onAbort) this.signal?.removeEventListener("abort", this.onAbort);
    // The provider ended a completed or empty stream itself; any other end leaves a request to abort.
    if (ending.kind === "failed") this.opened.cancel(ending.error);
    else this.opened.release();
    let usage: Usage;
    try {
      usage = this.finish({ ending, snapshot, timeToFirstTokenMs: this.firstTokenMs, latencyMs: performance.now() - this.started });
    } catch {
      // Recording must never leave `result` unsettled (finish is written not to throw).
      usage = snapshot.usage ?? { model: snapshot.model ?? "", prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
    }
    if (ending.kind === "completed") {
      const value = { content: snapshot.content, usage, toolCalls: snapshot.toolCalls };
      this.outcome = { ok: true, value };
      this.resolveResult?.(value);
      return;
    }
    const error = ending.kind === "empty" ? new EmptyResponseError(usage, ending.reason) : ending.error;
    if (throwToReader) this.pendingThrow = error;
    this.outcome = { ok: false, error };
    this.rejectResult?.(error);
  }

  /** What `next()` answers once the stream has ended: the ending error once, then done. */
  private afterEnd(): IteratorResult<string, undefined> {
    const error = this.pendingThrow;
    if (error === NOTHING) return DONE;
    this.pendingThrow = NOTHING;
    throw error;
  }
}
