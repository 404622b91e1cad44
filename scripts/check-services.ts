// Before the demo starts anything: are Postgres and Redis there, and do they let
// us in? Both are probed at once, each within a few seconds, so a newcomer with
// neither running gets one line naming both instead of a hang or a stack trace.
import { Redis } from "ioredis";
import { createConnection } from "../src/db/connection.js";
import { serviceAddress, unreachableMessage, unreachableReason, type UnreachableService } from "../src/unreachable-service.js";

const PROBE_TIMEOUT_S = 3;

type Probe = { ok: true } | { ok: false; unreachable?: UnreachableService; refused?: string };

async function probePostgres(url: string): Promise<Probe> {
  const database = createConnection(url, { max: 1, connectTimeoutSeconds: PROBE_TIMEOUT_S, applicationName: "llm-tracker-demo" });
  try {
    await database.sql`select 1`;
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "3D000") return { ok: true }; // the server answered; the worker's migrations create the database
    const reason = unreachableReason(error);
    if (reason) return { ok: false, unreachable: { service: "Postgres", url, reason } };
    // A wrong user or password, say: Postgres's own words name the user, never the password.
    return { ok: false, refused: `Postgres at ${serviceAddress("Postgres", url)} refused: ${(error as Error).message} — set DATABASE_URL to a user it accepts` };
  } finally {
    await database.close();
  }
}

async function probeRedis(url: string): Promise<Probe> {
  let firstError: unknown;
  const redis = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: PROBE_TIMEOUT_S * 1000,
  });
  redis.on("error", (error) => (firstError ??= error)); // the reason; connect() itself only says "Connection is closed."
  try {
    await redis.connect();
    await redis.ping();
    return { ok: true };
  } catch (error) {
    const reason = unreachableReason(firstError ?? error);
    if (reason) return { ok: false, unreachable: { service: "Redis", url, reason } };
    return { ok: false, refused: `Redis at ${serviceAddress("Redis", url)} refused: ${(error as Error).message} — check REDIS_URL` };
  } finally {
    redis.disconnect();
  }
}

/** One line saying what is missing and what to start, or undefined when both services answer. */
export async function checkServices(databaseUrl: string, redisUrl: string): Promise<string | undefined> {
  const probes = await Promise.all([probePostgres(databaseUrl), probeRedis(redisUrl)]);
  const unreachable = probes.flatMap((p) => (!p.ok && p.unreachable ? [p.unreachable] : []));
  if (unreachable.length > 0) return unreachableMessage(unreachable);
  return probes.flatMap((p) => (!p.ok && p.refused ? [p.refused] : []))[0];
}
