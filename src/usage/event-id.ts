// The ids of usage events. A call's event is built at its end, after it has waited on the
// network; by then the CPU's caches hold other work, and one crypto.randomUUID() costs
// ~10 µs instead of ~0.1 µs (docs/benchmarks.md, "What a stream's end costs"). Made in
// batches, the cold call is paid once per batch, not once per event.
import { randomUUID } from "node:crypto";

const BATCH = 64;
let ready: string[] = [];

/** A random (version 4) UUID, from the same generator as crypto.randomUUID(). */
export function newEventId(): string {
  if (ready.length === 0) ready = Array.from({ length: BATCH }, () => randomUUID());
  return ready.pop()!;
}
