// Partition upkeep on the partitioned usage table: partitions created ahead,
// rows that waited in the default partition moved into their day's partition,
// retention dropping whole expired days (late rows included) while the rollup
// keeps their totals, two workers doing upkeep at once, and the worker doing it
// at start with a metric and a log line per drop.
import { Writable } from "node:stream";
import postgres, { type Sql } from "postgres";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { runPartitionUpkeep } from "../../src/db/partition-upkeep.js";
import { createWorkerMetrics } from "../../src/ops/worker-metrics.js";
import { getStatsByDay, getStatsByUser, getSummaryStats } from "../../src/stats/index.js";
import { insertUsageRows } from "../../workers/insert-usage-rows.js";
import { startUsageWorker } from "../../workers/usage-worker.js";
import { classifyWriteError } from "../../workers/write-error-kind.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { obliterateQueue, testQueueName } from "../support/test-queue.js";
import { makeEvent } from "../support/usage-events.js";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const partitionOf = (ms: number) => `llm_tracker_usage_p${isoDay(ms).replaceAll("-", "")}`;

const databases: TestDatabase[] = [];
const clients: Sql[] = [];
async function migratedDatabase(): Promise<{ db: TestDatabase; sql: Sql }> {
  const db = await createTestDatabase();
  databases.push(db);
  await runMigrations(db.url);
  const sql = postgres(db.url, { max: 2, onnotice: () => {}, fetch_types: false });
  clients.push(sql);
  return { db, sql };
}
afterAll(async () => {
  await Promise.all(clients.map((sql) => sql.end()));
  await Promise.all(databases.map((db) => db.drop()));
});

async function partitions(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'llm_tracker_usage'::regclass ORDER BY 1`;
  return rows.map((row) => row.name);
}

async function rowsIn(sql: Sql, table: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${sql(table)}`;
  return row!.n;
}

/** The rollup summed per grain and dimension: what retention must leave untouched. */
async function rollupTotals(sql: Sql): Promise<unknown[]> {
  return [...await sql`SELECT grain, dimension, sum(calls)::int8::text AS calls, sum(total_tokens)::text AS tokens, sum(cost_usd)::text AS cost
    FROM llm_tracker_usage_rollup GROUP BY 1, 2 ORDER BY 1, 2`];
}

/** `count` events `daysAgo` days before today's UTC midnight, spread over that day's hours. */
function eventsOn(daysAgo: number, count: number, user: string) {
  return Array.from({ length: count }, (_, i) =>
    makeEvent({ created_at: new Date(today - daysAgo * DAY_MS + ((i * 7) % 24) * HOUR_MS + i * 1_000).toISOString(), user_id: user, total_tokens: 10 + i }),
  );
}

describe("creating partitions ahead", () => {
  it("leaves today (UTC) and the 7 days after it partitioned, and repeats as a no-op", async () => {
    const { sql } = await migratedDatabase();
    await sql`DROP TABLE ${sql(partitionOf(today + 3 * DAY_MS))}, ${sql(partitionOf(today + 7 * DAY_MS))}`;
    const first = await runPartitionUpkeep(sql);
    expect(first.created.map((c) => c.partition)).toEqual([partitionOf(today + 3 * DAY_MS), partitionOf(today + 7 * DAY_MS)]);
    expect(first.dropped).toEqual([]);
    const names = await partitions(sql);
    for (let i = 0; i <= 7; i += 1) expect(names).toContain(partitionOf(today + i * DAY_MS));
    expect(await runPartitionUpkeep(sql, { daysAhead: 7 })).toEqual({ created: [], dropped: [] });
    const further = await runPartitionUpkeep(sql, { daysAhead: 10 });
    expect(further.created.map((c) => c.day)).toEqual([8, 9, 10].map((i) => isoDay(today + i * DAY_MS)));
  });

  it("moves rows that waited in the default partition into their day's new partition; rows beyond the window stay there", async () => {
    const { sql } = await migratedDatabase();
    const late = eventsOn(20, 30, "late");
    const farAhead = [makeEvent({ created_at: new Date(today + 400 * DAY_MS).toISOString(), user_id: "ahead" })];
    await insertUsageRows(sql, [...late, ...farAhead]);
    expect(await rowsIn(sql, "llm_tracker_usage_default")).toBe(31);
    const rollup = await rollupTotals(sql);

    const { created } = await runPartitionUpkeep(sql);
    expect(created).toEqual([{ partition: partitionOf(today - 20 * DAY_MS), day: isoDay(today - 20 * DAY_MS), movedRows: 30 }]);
    expect(await rowsIn(sql, partitionOf(today - 20 * DAY_MS))).toBe(30);
    expect(await rowsIn(sql, "llm_tracker_usage_default")).toBe(1);
    // A move between partitions is not a change of rows: the rollup does not count it.
    expect(await rollupTotals(sql)).toEqual(rollup);
    // A redelivery of the moved rows is still a no-op.
    expect(await insertUsageRows(sql, late)).toEqual({ inserted: 0 });
  });
});

describe("a write racing the upkeep", () => {
  it("a row routed to the default partition while its day gets a partition fails once, as a transient error; written again, it lands", async () => {
    const { db, sql } = await migratedDatabase();
    const day = today - 20 * DAY_MS;
    await insertUsageRows(sql, eventsOn(20, 3, "waiting"));
    const upkeep = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
    clients.push(upkeep);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // The upkeep's own lock on the default partition, held while a worker's insert routes a row there.
    const pass = upkeep.begin(async (tx) => {
      await tx`LOCK TABLE llm_tracker_usage_default IN ACCESS EXCLUSIVE MODE`;
      locked();
      await held;
      return tx`SELECT * FROM llm_tracker_usage_create_partitions(${isoDay(day)}::date, ${isoDay(day)}::date)`;
    });
    await isLocked;
    const [event] = eventsOn(20, 1, "racing");
    const racing = insertUsageRows(sql, [event!]).then(() => undefined, (error: unknown) => error);
    // Wait until the insert waits for the lock, then let the upkeep move the rows and attach.
    const waiting = async () => (await sql`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`)[0]!.n as number;
    while ((await waiting()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect((await pass).length).toBe(1);
    const error = await racing;
    expect(error).toMatchObject({ code: "23514", table_name: "llm_tracker_usage_default" });
    // The worker retries a transient error with the same batch instead of setting its events aside.
    expect(classifyWriteError(error)).toBe("transient");
    expect(await insertUsageRows(sql, [event!])).toEqual({ inserted: 1 });
    expect(await rowsIn(sql, partitionOf(day))).toBe(4);
  });
});

describe("retention", () => {
  it("drops whole expired days only, late rows included, never the default partition; the rollup and whole-hour stats keep their totals", async () => {
    const { sql } = await migratedDatabase();
    await insertUsageRows(sql, [...eventsOn(45, 40, "old"), ...eventsOn(31, 40, "old"), ...eventsOn(29, 40, "kept"), ...eventsOn(0, 40, "kept")]);
    // The 45- and 31-day-old rows had no partition: they wait in the default one (late rows, a replayed spool).
    await runPartitionUpkeep(sql);
    const range = [isoDay(today - 50 * DAY_MS), isoDay(today)] as const;
    const before = {
      rollup: await rollupTotals(sql),
      summary: await getSummaryStats(...range, { db: sql }),
      byDay: await getStatsByDay(...range, { db: sql }),
      byUser: await getStatsByUser(...range, { db: sql }),
    };
    expect(before.summary.total_calls).toBe(160);

    const { dropped } = await runPartitionUpkeep(sql, { retentionDays: 30 });
    expect(dropped).toEqual([
      { partition: partitionOf(today - 45 * DAY_MS), day: isoDay(today - 45 * DAY_MS) },
      { partition: partitionOf(today - 31 * DAY_MS), day: isoDay(today - 31 * DAY_MS) },
    ]);
    const names = await partitions(sql);
    expect(names).not.toContain(partitionOf(today - 45 * DAY_MS));
    expect(names).toContain(partitionOf(today - 29 * DAY_MS));
    expect(names).toContain("llm_tracker_usage_default");
    const [raw] = await sql<{ n: number; old: number }[]>`
      SELECT count(*)::int AS n, count(*) FILTER (WHERE user_id = 'old')::int AS old FROM llm_tracker_usage`;
    expect(raw).toEqual({ n: 80, old: 0 });

    // Dropping a partition deletes no row one by one: the rollup still holds the dropped days,
    // and the stats over ranges of whole hours answer as before.
    expect(await rollupTotals(sql)).toEqual(before.rollup);
    expect(await getSummaryStats(...range, { db: sql })).toEqual(before.summary);
    expect(await getStatsByDay(...range, { db: sql })).toEqual(before.byDay);
    expect(await getStatsByUser(...range, { db: sql })).toEqual(before.byUser);

    // A row written late into an expired day lands in the default partition and expires at the next pass.
    const [lateEvent] = eventsOn(40, 1, "very-late");
    await insertUsageRows(sql, [lateEvent!]);
    const next = await runPartitionUpkeep(sql, { retentionDays: 30 });
    expect(next.created.map((c) => c.day)).toEqual([isoDay(today - 40 * DAY_MS)]);
    expect(next.dropped.map((d) => d.day)).toEqual([isoDay(today - 40 * DAY_MS)]);
    const [left] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage WHERE user_id = 'very-late'`;
    expect(left!.n).toBe(0);
    expect((await getSummaryStats(...range, { db: sql })).total_calls).toBe(161);
    expect(await runPartitionUpkeep(sql, { retentionDays: 30 })).toEqual({ created: [], dropped: [] });
  });

  it("keeps the day that ended less than retentionDays × 24 h ago", async () => {
    const { sql } = await migratedDatabase();
    await insertUsageRows(sql, [...eventsOn(2, 3, "a"), ...eventsOn(1, 3, "b")]);
    await runPartitionUpkeep(sql);
    // The day two days back ended between 24 and 48 hours ago: 1 day of retention drops it; yesterday stays.
    const { dropped } = await runPartitionUpkeep(sql, { retentionDays: 1 });
    expect(dropped.map((d) => d.day)).toEqual([isoDay(today - 2 * DAY_MS)]);
    expect(await partitions(sql)).toContain(partitionOf(today - DAY_MS));
  });

  it("is correct with two workers doing upkeep at once: every partition created once, every expired one dropped once", async () => {
    const { db, sql } = await migratedDatabase();
    await insertUsageRows(sql, [...eventsOn(60, 20, "old"), ...eventsOn(50, 20, "old"), ...eventsOn(40, 20, "old"), ...eventsOn(3, 20, "new")]);
    await sql`DROP TABLE ${sql(partitionOf(today + 5 * DAY_MS))}`;
    const rollup = await rollupTotals(sql);
    const other = postgres(db.url, { max: 2, onnotice: () => {}, fetch_types: false });
    clients.push(other);
    const passes = await Promise.all([
      runPartitionUpkeep(sql, { retentionDays: 30 }),
      runPartitionUpkeep(other, { retentionDays: 30 }),
      runPartitionUpkeep(other, { retentionDays: 30 }),
    ]);
    const created = passes.flatMap((p) => p.created.map((c) => c.day)).sort();
    const dropped = passes.flatMap((p) => p.dropped.map((d) => d.day)).sort();
    expect(created).toEqual([60, 50, 40, 3].map((n) => isoDay(today - n * DAY_MS)).concat(isoDay(today + 5 * DAY_MS)).sort());
    expect(dropped).toEqual([60, 50, 40].map((n) => isoDay(today - n * DAY_MS)).sort());
    expect(await rowsIn(sql, "llm_tracker_usage_default")).toBe(0);
    const [raw] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage`;
    expect(raw!.n).toBe(20);
    expect(await rollupTotals(sql)).toEqual(rollup);
  });
});

describe("the worker's partition upkeep", () => {
  const queues: string[] = [];
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((name) => obliterateQueue(name)));
  });

  it("creates partitions ahead and drops expired ones at start, with a metric and a log line per drop", async () => {
    const { db, sql } = await migratedDatabase();
    await insertUsageRows(sql, [...eventsOn(12, 5, "old"), ...eventsOn(9, 5, "old"), ...eventsOn(2, 5, "kept")]);
    await sql`DROP TABLE ${sql(partitionOf(today + 7 * DAY_MS))}`;
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    );
    const metrics = createWorkerMetrics({ defaultMetrics: false });
    const queueName = testQueueName();
    queues.push(queueName);
    const worker = await startUsageWorker({
      redisUrl: TEST_REDIS_URL,
      databaseUrl: db.url,
      queueName,
      batchSize: 100,
      flushMs: 20,
      rollupCompactMs: 0,
      retentionDays: 7,
      logger,
      observer: metrics.observer,
    });
    try {
      // startUsageWorker resolves after the first pass.
      const names = await partitions(sql);
      expect(names).toContain(partitionOf(today + 7 * DAY_MS));
      expect(names).not.toContain(partitionOf(today - 12 * DAY_MS));
      expect(names).not.toContain(partitionOf(today - 9 * DAY_MS));
      expect(names).toContain(partitionOf(today - 2 * DAY_MS));
      const drops = lines.filter((line) => String(line.msg).startsWith("usage partition dropped"));
      expect(drops.map((line) => [line.partition, line.day, line.retentionDays])).toEqual([
        [partitionOf(today - 12 * DAY_MS), isoDay(today - 12 * DAY_MS), 7],
        [partitionOf(today - 9 * DAY_MS), isoDay(today - 9 * DAY_MS), 7],
      ]);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^llm_tracker_partitions_dropped_total 2$/m);
      // The two old days (moved out of the default partition) and the day a week ahead.
      expect(text).toMatch(/^llm_tracker_partitions_created_total 4$/m);
      expect(text).toMatch(/^llm_tracker_partition_upkeep_failures_total 0$/m);
    } finally {
      await worker.close();
    }
  });

  it("keeps every row without a retention, and a failed pass is logged and counted, not fatal", async () => {
    const { db, sql } = await migratedDatabase();
    await insertUsageRows(sql, eventsOn(400, 3, "ancient"));
    // Upkeep cannot take its lock on the default partition while this transaction holds it.
    const blocker = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
    clients.push(blocker);
    const metrics = createWorkerMetrics({ defaultMetrics: false });
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(chunk.toString());
        done();
      },
    }));
    const queueName = testQueueName();
    queues.push(queueName);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = blocker.begin(async (tx) => {
      await tx`LOCK TABLE llm_tracker_usage_default IN ACCESS EXCLUSIVE MODE`;
      locked();
      await held;
    });
    await isLocked;
    const worker = await startUsageWorker({
      redisUrl: TEST_REDIS_URL,
      databaseUrl: db.url,
      queueName,
      rollupCompactMs: 0,
      retentionDays: undefined,
      logger,
      observer: metrics.observer,
    });
    try {
      expect(await metrics.registry.metrics()).toMatch(/^llm_tracker_partition_upkeep_failures_total 1$/m);
      expect(warnings.join("")).toContain("usage partition upkeep failed; retrying at the next pass");
      expect(worker.running).toBe(true);
    } finally {
      release();
      await holding;
      await worker.close();
    }
    // Without a retention nothing is ever dropped, however old.
    expect(await runPartitionUpkeep(sql)).toMatchObject({ dropped: [] });
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage WHERE user_id = 'ancient'`;
    expect(row!.n).toBe(3);
  });
});
