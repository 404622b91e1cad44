// The producer's Redis connection: fails fast while Redis is away (BullMQ's
// production guide for queues on the request path) and never keeps the process alive.
import { Redis } from "ioredis";

export interface ProducerConnectionOptions {
  /** Longest wait for a single command, in ms. Default 5000. */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in ms. Default 2000. */
  maxReconnectDelayMs?: number;
}

/**
 * A client with `enableOfflineQueue: false`: a command issued while Redis is
 * down fails at once instead of piling up in memory; the producer keeps the
 * events itself and decides when to retry or spool.
 */
export function createProducerConnection(url: string, options: ProducerConnectionOptions = {}): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, maxDelay),
  });
  unrefConnection(client);
  return client;
}

/**
 * An application that is done should exit even while we hold a Redis socket or
 * wait to reconnect; flush() holds the process open itself while it has work.
 * ioredis has no unref option (redis/ioredis#44, #1259), so unref its socket and
 * its reconnect timer as they appear.
 */
function unrefConnection(client: Redis): void {
  const handles = client as unknown as { stream?: { unref?: () => void }; reconnectTimeout?: { unref?: () => void } | null };
  client.on("connect", () => handles.stream?.unref?.());
  client.on("reconnecting", () => handles.reconnectTimeout?.unref?.());
}
