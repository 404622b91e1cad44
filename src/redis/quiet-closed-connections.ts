// BullMQ 5 can reject a promise nobody holds when a Queue or Worker is closed
// while one of its connections is still starting (its version-check INFO in
// flight, or Redis not reached yet): close() removes every listener, then the
// start-up's failure is emitted as "error" on the bare connection, and
// EventEmitter throws it as an unhandled rejection — "Connection is closed."
// — which ends the process (taskforcesh/bullmq#3546). BullMQ 6 emits it only
// when someone listens; we are on 5.x, so we give our connections that rule.
// A worker stopped a moment after it started, or a producer closed while Redis
// was away, hit it; test/redis/quiet-closed-connections.test.ts shows both.
import type { EventEmitter } from "node:events";
import type { Queue, Worker } from "bullmq";

/** Makes `owner`'s connections drop an "error" nobody listens to any more; returns `owner`. */
export function quietClosedConnections<Owner extends Queue | Worker>(owner: Owner): Owner {
  // Not in BullMQ's types: the Worker keeps a second, blocking connection of its own.
  const internals = owner as unknown as { connection?: EventEmitter; blockingConnection?: EventEmitter };
  for (const connection of [internals.connection, internals.blockingConnection]) {
    if (connection) dropUnheardErrors(connection);
  }
  return owner;
}

function dropUnheardErrors(connection: EventEmitter): void {
  const emit = connection.emit.bind(connection);
  connection.emit = (event: string | symbol, ...args: unknown[]): boolean =>
    event === "error" && connection.listenerCount("error") === 0 ? false : emit(event, ...args);
}
