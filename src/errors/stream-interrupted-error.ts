import { LLMTrackerError } from "./llm-tracker-error.js";

/** Why a tracked stream ended before the provider finished it, when no other error says so. */
export type StreamInterruption = "caller_stopped" | "connection_closed" | "shutdown" | "process_exit";

const MESSAGES: Record<StreamInterruption, string> = {
  caller_stopped: "Stream ended early: the caller stopped reading before the stream ended",
  connection_closed: "Stream ended early: the connection closed before the provider finished the stream",
  shutdown: "Stream ended early: shutdown() was called before the stream ended",
  process_exit: "Stream ended early: the process exited before the stream ended",
};

/**
 * `stream.result` of `LLMTracker.streamAndTrack` rejects with this when the stream ended
 * before the provider finished it and no SDK error or abort reason says why:
 * - `caller_stopped`: the loop over the stream was left early (`break`, `return`, a throw);
 * - `connection_closed`: the response ended cleanly but the provider never said it was done
 *   (no finish reason, no usage chunk): a proxy or the server cut it (also thrown by the iteration);
 * - `shutdown`: `shutdown()` ran while the stream was open (also thrown by a pending iteration);
 * - `process_exit`: the process was exiting (SIGTERM/SIGINT without a handler of the app's own, or 'exit').
 * The stream's usage event is recorded as failed, with this message.
 */
export class StreamInterruptedError extends LLMTrackerError {
  constructor(readonly reason: StreamInterruption) {
    super(MESSAGES[reason]);
  }
}
