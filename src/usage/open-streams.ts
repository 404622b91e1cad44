// The tracked streams still open in this process, so that shutdown() and the process
// hooks can end them (and so hand over their usage events) before the producer stops.
import type { StreamInterruption } from "../errors/stream-interrupted-error.js";
import { recordPendingNow } from "./deferred-recording.js";

/** What the registry needs of a tracked stream. */
export interface EndableStream {
  /** Ends the stream as interrupted and hands over its event now (synchronously). */
  interrupt(reason: StreamInterruption): void;
}

const open = new Set<EndableStream>();

export function addOpenStream(stream: EndableStream): void {
  open.add(stream);
}

export function removeOpenStream(stream: EndableStream): void {
  open.delete(stream);
}

export function openStreamCount(): number {
  return open.size;
}

/** Ends every open stream, each handing over its event synchronously (after the calls already finished). */
export function interruptOpenStreams(reason: StreamInterruption): void {
  // A stream that already ended, still waiting to be recorded, is recorded as it ended, not as interrupted.
  recordPendingNow();
  for (const stream of [...open]) stream.interrupt(reason);
}
