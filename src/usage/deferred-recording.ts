// Recording a finished call after the caller has moved on. Building a usage event at the
// end of a call costs 15–30 µs, most of it because the CPU's caches went cold while the
// call waited on the network (docs/benchmarks.md, "What a stream's end costs"); done in the
// SDK's own promise reactions it delays the caller's next line by that much. The wrappers
// note the instant a call ended and build its event on the next turn of the event loop
// instead. Whatever asks for the events handed over so far — flush(), shutdown(), the
// process hooks — first records what is still pending here, synchronously.

const pending: Array<() => void> = [];
let scheduled = false;

/** Runs `record` on the next turn of the event loop (setImmediate), or earlier at recordPendingNow(). */
export function recordSoon(record: () => void): void {
  pending.push(record);
  if (scheduled) return;
  scheduled = true;
  setImmediate(recordPendingNow);
}

/** Runs every pending record now, in the order they came, including those they add. */
export function recordPendingNow(): void {
  scheduled = false;
  // By index: a record may add another (a stream's end hands over its call's event).
  for (let i = 0; i < pending.length; i += 1) {
    try {
      pending[i]!();
    } catch {
      // Recording never throws into the host's event loop (the same rule as inside the call).
    }
  }
  pending.length = 0;
}

/** How many finished calls are still to be recorded (for tests and diagnostics). */
export function pendingRecordCount(): number {
  return pending.length;
}
