// The Redis scripts behind exact spend: increments during a rebuild are journalled and
// kept only when the rebuild's Postgres snapshot did not already hold them; after it,
// an increment the snapshot held (a late worker) is skipped.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BEGIN_REBUILD_SCRIPT, FINISH_REBUILD_SCRIPT, INCREMENT_SCRIPT } from "../../src/budgets/spend-scripts.js";
import { TEST_REDIS_URL } from "../support/services.js";

let redis: Redis;
const base = `test-spend-${randomUUID()}`;
const hash = `${base}:day:UTC:2026-12-02`;
const keys = [hash, `${hash}:rebuilding`, `${hash}:journal`];
const expireAt = Math.ceil(Date.now() / 1000) + 3600;

const increment = (xid: number, field: string, units: number) => redis.eval(INCREMENT_SCRIPT, 3, ...keys, String(xid), expireAt, 1, field, String(units)) as Promise<number[]>;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  await redis.del(hash, `${hash}:rebuilding`, `${hash}:journal`, `${hash}:lock`, `${hash}:staging`);
  redis.disconnect();
});

describe("spend scripts", () => {
  it("counts each committed transaction exactly once across a rebuild", async () => {
    expect(await increment(90, "g", 5)).toEqual([1]); // no snapshot yet: says so, and adds
    const token = "t1";
    expect(await redis.eval(BEGIN_REBUILD_SCRIPT, 3, `${hash}:lock`, `${hash}:rebuilding`, `${hash}:journal`, token, 60_000)).toBe(1);
    expect(await redis.eval(BEGIN_REBUILD_SCRIPT, 3, `${hash}:lock`, `${hash}:rebuilding`, `${hash}:journal`, "t2", 60_000)).toBe(0); // one at a time
    // During the rebuild: 100 committed before the snapshot (in its sums), 105 in progress at it, 120 after it.
    await increment(100, "g", 7);
    await increment(105, "g", 11);
    await increment(120, "u:alice", 13);
    // The snapshot saw 90 and 100 (sums 5 + 7 = 12 on g), not 105 (in progress) nor 120 (≥ xmax).
    const snapshot = "101:110:105";
    const finished = await redis.eval(FINISH_REBUILD_SCRIPT, 5, hash, `${hash}:lock`, `${hash}:rebuilding`, `${hash}:journal`, `${hash}:staging`, token, snapshot, String(expireAt), "g", "12");
    expect(finished).toBe(1);
    expect(await redis.hgetall(hash)).toEqual({ __snapshot: snapshot, g: String(12 + 11), "u:alice": "13" });
    expect(await redis.exists(`${hash}:journal`, `${hash}:rebuilding`, `${hash}:lock`)).toBe(0);
    // Late increments: 100 again (a slow worker whose rows the snapshot held) is skipped; 130 is new.
    expect(await increment(100, "g", 7)).toEqual([]);
    await increment(130, "g", 1);
    expect(await redis.hget(hash, "g")).toBe(String(12 + 11 + 1));
  });
});
