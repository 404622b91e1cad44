// The one place Redis clients for the usage queue are made: a plain client for a
// single server, or an ioredis Cluster client when REDIS_URL names a node of a
// Redis Cluster (LLM_TRACKER_REDIS_CLUSTER). Producer, worker, CLI and metrics
// all connect through here, so a cluster works the same for each of them.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

/** Where the queue lives. */
export interface RedisTarget {
  /** REDIS_URL: the server, or with `cluster` one node of the cluster (the others are discovered). */
  url: string;
  /** LLM_TRACKER_REDIS_CLUSTER. Default false. */
  cluster?: boolean;
}

/** Either kind of client; BullMQ takes both as `connection`. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /**
   * Times a command is retried across reconnections before it fails; BullMQ
   * Workers (blocking reads) need null. Default 1.
   */
  maxRetriesPerRequest?: number | null;
  /** Queue commands while disconnected instead of failing them at once. Default true. */
  enableOfflineQueue?: boolean;
  /** Longest wait for one command, in ms. Default: none. */
  commandTimeoutMs?: number;
  /** Longest wait for a connection, in ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Delay before reconnection attempt `attempt` (1, 2, …), in ms. Default: ioredis's (a cluster: 100 + 2 × attempt, at most 2000). */
  retryDelayMs?: (attempt: number) => number;
}

/**
 * A client for `target`. With `cluster`, the URL's user, password and TLS
 * (`rediss://`) apply to every node; a cluster has only database 0 (the
 * settings refuse another). ioredis `keyPrefix` is never set: BullMQ refuses
 * it and takes its prefix (LLM_TRACKER_QUEUE_PREFIX) as its own option.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions = {}): RedisClient {
  const perNode: RedisOptions = {
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 1 : options.maxRetriesPerRequest,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  };
  if (!target.cluster) {
    return new Redis(target.url, {
      ...perNode,
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      ...(options.retryDelayMs ? { retryStrategy: options.retryDelayMs } : {}),
    });
  }
  const url = new URL(target.url);
  const tls = url.protocol === "rediss:";
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    ...(options.retryDelayMs ? { clusterRetryStrategy: options.retryDelayMs } : {}),
    redisOptions: {
      ...perNode,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(tls ? { tls: {} } : {}),
    },
    // Managed clusters behind TLS (ElastiCache, MemoryDB) sign their certificate
    // for the host name: connect by name, not by the address it resolves to.
    ...(tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster([{ host: url.hostname, port: url.port ? Number(url.port) : 6379 }], clusterOptions);
}

/** The ioredis clients that own sockets: the client itself, or every node of a cluster as it joins. */
export function onEachNode(client: RedisClient, use: (node: Redis) => void): void {
  if (client instanceof Redis) {
    use(client);
    return;
  }
  for (const node of client.nodes()) use(node);
  client.on("+node", use);
}
