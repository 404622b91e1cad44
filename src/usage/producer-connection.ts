// The producer's Redis connection: fails fast while Redis is away (BullMQ's
// production guide for queues on the request path) and never keeps the process alive.
import type { Redis } from "ioredis";
import { createRedisClient, onEachNode, type RedisClient, type RedisTarget } from "../redis/redis-client.js";

export interface ProducerConnectionOptions {
  /** Longest wait for a single command, in ms. Default 5000. */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in ms. Default 2000. */
  maxReconnectDelayMs?: number;
}

/**
 * A client with `enableOfflineQueue: false`: a command issued while Redis is
 * down fails at once instead of piling up in memory; the producer keeps the
 * events itself and decides when to retry or spool. The same holds for a
 * cluster client (offline queue off for the cluster, one retry per command).
 */
export function createProducerConnection(target: RedisTarget, options: ProducerConnectionOptions = {}): RedisClient {
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const client = createRedisClient(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
    connectTimeoutMs: 5_000,
    retryDelayMs: (attempt) => Math.min(50 * 2 ** attempt, maxDelay),
  });
  unrefConnection(client);
  return client;
}

/**
 * An application that is done should exit even while we hold a Redis socket or
 * wait to reconnect; flush() holds the process open itself while it has work.
 * ioredis has no unref option (redis/ioredis#44, #1259), so unref its sockets and
 * its reconnect timers as they appear: one client's, or each cluster node's.
 */
function unrefConnection(client: RedisClient): void {
  onEachNode(client, (node: Redis) => {
    const handles = node as unknown as { stream?: { unref?: () => void } };
    node.on("connect", () => handles.stream?.unref?.());
  });
  const timers = client as unknown as { reconnectTimeout?: { unref?: () => void } | null };
  client.on("reconnecting", () => timers.reconnectTimeout?.unref?.());
}
