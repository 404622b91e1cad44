// A provider SDK's own stream, passed through chunk by chunk (the same objects, in order)
// while a stream accumulator reads them; whichever way the stream ends — finished, provider
// error, connection lost, the caller's `break`, shutdown, process exit — the call's one event
// is handed over exactly once.
import type { StreamInterruption } from "../errors/stream-interrupted-error.js";
import { StreamInterruptedError } from "../errors/stream-interrupted-error.js";
import { streamEndUsage } from "../estimate/stream-end-usage.js";
import type { StreamAccumulator, StreamSnapshot } from "../providers/types.js";
import { recordSoon } from "../usage/deferred-recording.js";
import { describeError } from "../usage/error-message.js";
import { addOpenStream, removeOpenStream, type EndableStream } from "../usage/open-streams.js";
import { streamEndError } from "../usage/stream-and-track.js";
import { zeroUsageOf, type TrackedCall } from "../usage/tracked-call.js";
import { type EndCause, isConnectionLoss, type StreamEnding } from "../usage/tracked-stream.js";

export interface SdkStreamTracking<Chunk> {
  call: TrackedCall;
  accumulator: StreamAccumulator<Chunk>;
  /** A chunk the caller must not see (the usage-only chunk the wrapper asked for). Default none. */
  hide?: (chunk: Chunk) => boolean;
  /** After which chunk `hide` may say yes (the finish chunk); until then chunks pass without a step in between. Default: from the first. */
  hideAfter?: (chunk: Chunk) => boolean;
  /** Tidies each chunk before the caller sees it (drops what asking for usage added). Default none. */
  tidy?: (chunk: Chunk) => void;
  /** Whether a thrown error is the provider's own (an error event in the stream). */
  isProviderError(error: unknown): boolean;
  /** Whether the caller aborted the request (the SDK then ends its iteration quietly). */
  aborted?: () => boolean;
  /** The prompt's tokens, estimated; called only when the stream ended before any usage report. */
  estimatePrompt(): number;
  /** The error text of a stream the provider finished as failed (Responses `response.failed`); null when it did not. */
  failureOf?: (snapshot: StreamSnapshot) => string | null;
  /** Credentials to keep out of the error text. */
  secrets: readonly (string | undefined)[];
}

/** Records the one end of a wrapped stream; registered while open so that shutdown() and exit can end it. */
class StreamEndRecorder<Chunk> implements EndableStream {
  firstTokenMs: number | null = null;

  constructor(private readonly tracking: SdkStreamTracking<Chunk>) {
    addOpenStream(this);
  }

  get ended(): boolean {
    return this.tracking.call.isEnded;
  }

  interrupt(reason: StreamInterruption): void {
    this.end({ kind: "failed", cause: reason, error: new StreamInterruptedError(reason) });
  }

  failed(error: unknown): void {
    this.end({ kind: "failed", cause: this.causeOf(error), error });
  }

  private causeOf(error: unknown): EndCause {
    if (this.tracking.isProviderError(error)) return "provider_error";
    if (isConnectionLoss(error)) return "connection_lost";
    if (this.tracking.aborted?.()) return "signal_aborted";
    // Not the caller's signal: the SDK's own timeout (@google/genai's covers the whole response).
    const name = (error as { name?: unknown } | null)?.name;
    return name === "AbortError" || name === "TimeoutError" ? "timed_out" : "stream_failed";
  }

  /**
   * The SDK's iteration ended without an error. What it means (complete only if the provider
   * said so) is worked out once the caller's loop has moved on, as of this instant; until
   * then the stream stays registered, and flush(), shutdown() and exit record it first.
   * With a span open (OpenTelemetry), now: the span ends when the stream does.
   */
  atStreamEnd(): void {
    const endedAt = performance.now();
    // Whether the caller aborted is read now: the answer may change by the time it is recorded.
    const aborted = this.tracking.aborted?.() === true;
    if (this.tracking.call.hasSpan) this.recordStreamEnd(endedAt, aborted);
    else recordSoon(() => this.recordStreamEnd(endedAt, aborted));
  }

  private recordStreamEnd(endedAt: number, aborted: boolean): void {
    const snapshot = this.tracking.accumulator.snapshot();
    if (snapshot.finished) return this.end({ kind: "completed" }, snapshot, endedAt);
    if (aborted) return this.end({ kind: "failed", cause: "signal_aborted", error: new Error("the request was aborted") }, snapshot, endedAt);
    this.end({ kind: "failed", cause: "connection_closed", error: new StreamInterruptedError("connection_closed") }, snapshot, endedAt);
  }

  end(ending: StreamEnding, snapshot: StreamSnapshot = this.tracking.accumulator.snapshot(), endedAt?: number): void {
    const { call, secrets } = this.tracking;
    removeOpenStream(this);
    if (call.isEnded) return; // already recorded another way (asResponse() before the stream was parsed)
    const model = snapshot.model ?? call.description.model;
    let counted;
    try {
      counted = streamEndUsage(snapshot, this.tracking.estimatePrompt, call.description.model);
    } catch {
      counted = { usage: zeroUsageOf(model), usageReported: false }; // no tokenizer: zeros, unreported
    }
    const failure =
      ending.kind === "completed"
        ? (this.tracking.failureOf?.(snapshot) ?? null)
        : ending.kind === "failed" && ending.cause === "timed_out"
          ? `stream ended early: timed out (the SDK's own timeout): ${describeError(ending.error, secrets)}` // not LLM_TIMEOUT_MS: the client is the caller's
          : streamEndError(ending, secrets);
    call.end({
      usage: counted.usage,
      usageReported: counted.usageReported,
      error: failure,
      thrown: ending.kind === "failed" ? ending.error : undefined,
      timeToFirstTokenMs: this.firstTokenMs,
      endedAt,
    });
  }
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The caller's iterator over a wrapped stream. It hands out the SDK's own promises and reads
 * each chunk beside the caller (a reaction registered first, so the accumulator has seen a
 * chunk before the caller does): no promise in between, a stream of many chunks pays per
 * chunk only the accumulator's read. Only once a chunk to hide may come (`hideAfter`) does it
 * step in between, to drop it. It ends once, like the SDK's: done, an error, or return().
 */
class TrackedChunks<Chunk> implements AsyncIterableIterator<Chunk> {
  private finished = false;
  /** From now on a chunk may have to be hidden: each step goes through onStep. */
  private filtering: boolean;

  constructor(
    private readonly inner: AsyncIterator<Chunk>,
    private readonly recorder: StreamEndRecorder<Chunk>,
    private readonly tracking: SdkStreamTracking<Chunk>,
  ) {
    this.filtering = tracking.hide !== undefined && tracking.hideAfter === undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Chunk, undefined>> {
    if (this.finished) return Promise.resolve(DONE);
    const pending = this.inner.next() as Promise<IteratorResult<Chunk, undefined>>;
    if (this.filtering) return pending.then(this.onStep, this.onError);
    pending.then(this.observe, this.onObservedError);
    return pending;
  }

  /** Reads one step; true when it was a chunk. */
  private read(step: IteratorResult<Chunk>): step is IteratorYieldResult<Chunk> {
    if (step.done) {
      this.finished = true;
      this.recorder.atStreamEnd();
      return false;
    }
    const chunk = step.value;
    const { recorder, tracking } = this;
    if (!recorder.ended && tracking.accumulator.add(chunk) !== null && recorder.firstTokenMs === null) recorder.firstTokenMs = performance.now() - tracking.call.started;
    tracking.tidy?.(chunk);
    if (!this.filtering && tracking.hideAfter?.(chunk)) this.filtering = true;
    return true;
  }

  private readonly observe = (step: IteratorResult<Chunk>): void => {
    this.read(step);
  };

  private readonly onObservedError = (error: unknown): void => {
    // The caller gets this rejection from the SDK's own promise; here it is only recorded.
    this.finished = true;
    this.recorder.failed(error);
  };

  private readonly onStep = (step: IteratorResult<Chunk>): IteratorResult<Chunk, undefined> | Promise<IteratorResult<Chunk, undefined>> => {
    if (!this.read(step)) return DONE;
    if (this.tracking.hide?.(step.value)) return this.next();
    return step;
  };

  private readonly onError = (error: unknown): never => {
    this.finished = true;
    this.recorder.failed(error);
    throw error;
  };

  /** The caller left the loop (break, return, a throw): recorded as stopped, and the SDK's iterator closed so it aborts the request as it would without us. */
  async return(): Promise<IteratorResult<Chunk, undefined>> {
    if (!this.finished) {
      this.finished = true;
      this.recorder.end({ kind: "failed", cause: "caller_stopped", error: new StreamInterruptedError("caller_stopped") });
      await this.inner.return?.();
    }
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<Chunk, undefined>> {
    await this.return();
    throw error;
  }
}

/**
 * Wraps the SDK's chunk iterator. The returned factory is called once per iteration (as the
 * SDK's own is); the event is recorded whether or not anyone ever iterates (shutdown or exit
 * records an untouched stream as interrupted).
 */
export function trackedChunks<Chunk>(source: () => AsyncIterator<Chunk>, tracking: SdkStreamTracking<Chunk>): () => AsyncIterableIterator<Chunk> {
  const recorder = new StreamEndRecorder(tracking);
  let iterated = false;
  return () => {
    // A second iteration is the SDK's business (it refuses a consumed stream): passed through untracked.
    if (iterated) return toIterable(source());
    iterated = true;
    let inner: AsyncIterator<Chunk>;
    try {
      inner = source();
    } catch (error) {
      recorder.failed(error);
      throw error;
    }
    return new TrackedChunks(inner, recorder, tracking);
  };
}

function toIterable<Chunk>(iterator: AsyncIterator<Chunk>): AsyncIterableIterator<Chunk> {
  return Object.assign(iterator, { [Symbol.asyncIterator]: () => iterator }) as AsyncIterableIterator<Chunk>;
}
