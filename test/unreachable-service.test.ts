// The one line a person reads when Postgres or Redis is not there: which
// service, where, why, what to start — from the errors the real drivers throw.
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createConnection } from "../src/db/connection.js";
import { serviceAddress, unreachableMessage, unreachableReason } from "../src/unreachable-service.js";
import { freePort } from "./support/free-port.js";
import { ADMIN_DATABASE_URL } from "./support/services.js";

async function postgresError(url: string): Promise<unknown> {
  const database = createConnection(url, { max: 1, connectTimeoutSeconds: 3 });
  try {
    await database.sql`select 1`;
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await database.close();
  }
}

async function redisError(url: string): Promise<unknown> {
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  const errors: unknown[] = [];
  redis.on("error", (error) => errors.push(error));
  await redis.connect().catch(() => {});
  redis.disconnect();
  return errors[0];
}

describe("unreachableReason", () => {
  it("names a refused Postgres connection, from postgres.js's own error", async () => {
    const port = await freePort();
    expect(unreachableReason(await postgresError(`postgres://tracker:hunter2@127.0.0.1:${port}/x`))).toBe("connection refused");
  });

  it("names a refused Redis connection, from ioredis's own error", async () => {
    const port = await freePort();
    expect(unreachableReason(await redisError(`redis://127.0.0.1:${port}`))).toBe("connection refused");
  });

  it("finds the reason inside a wrapping error's cause", async () => {
    const port = await freePort();
    const wrapped = new Error("migrating failed", { cause: await postgresError(`postgres://127.0.0.1:${port}/x`) });
    expect(unreachableReason(wrapped)).toBe("connection refused");
  });

  it("says nothing for a server that answered with a refusal (starting it would not help)", async () => {
    const url = new URL(ADMIN_DATABASE_URL);
    url.username = "no_such_role_for_this_test";
    const error = await postgresError(url.toString());
    expect((error as { code?: string }).code).toMatch(/^28/); // invalid authorization
    expect(unreachableReason(error)).toBeUndefined();
    expect(unreachableReason(new Error("plain"))).toBeUndefined();
  });
});

describe("unreachableMessage", () => {
  it("says what is missing, where, why and what to start, without user or password", () => {
    const line = unreachableMessage([{ service: "Postgres", url: "postgres://tracker:hunter2@127.0.0.1:5432/llm_tracker", reason: "connection refused" }]);
    expect(line).toBe("cannot reach Postgres at 127.0.0.1:5432 (connection refused) — start it (e.g. docker compose up -d postgres)");
  });

  it("names both services in one line when both are missing", () => {
    const line = unreachableMessage([
      { service: "Postgres", url: "postgres://postgres@localhost/llm_tracker", reason: "connection refused" },
      { service: "Redis", url: "redis://:hunter2@127.0.0.1:6379", reason: "connection refused" },
    ]);
    expect(line).toBe(
      "cannot reach Postgres at localhost:5432 (connection refused) and Redis at 127.0.0.1:6379 (connection refused) — start them (e.g. docker compose up -d postgres redis)",
    );
  });

  it("asks whether a service on another host is running, instead of offering a local command", () => {
    const line = unreachableMessage([{ service: "Redis", url: "redis://cache.internal:6380", reason: "host not found" }]);
    expect(line).toBe("cannot reach Redis at cache.internal:6380 (host not found) — is it running and reachable from here?");
  });

  it("shows host and default port only", () => {
    expect(serviceAddress("Redis", "redis://user:pw@127.0.0.1")).toBe("127.0.0.1:6379");
    expect(serviceAddress("Postgres", "not a url")).toBe("(unparseable URL)");
  });
});
