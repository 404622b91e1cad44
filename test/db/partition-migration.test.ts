// drizzle/0007 on an installation that already has rows: the usage table becomes
// partitioned by UTC day with every row, index, trigger and grant kept, the
// rollup untouched and still exact afterwards; a writer of this release keeps
// writing through the conversion; a redelivered event stays a no-op.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFolder, runMigrations } from "../../src/db/migrate.js";
import { getStatsByDay, getStatsByModel, getSummaryStats } from "../../src/stats/index.js";
import { insertUsageRows } from "../../workers/insert-usage-rows.js";
import { ADMIN_DATABASE_URL } from "../support/services.js";
import { migrateUntil } from "../support/migrate-until.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { makeEvent } from "../support/usage-events.js";

const PARTITIONING_TAG = "0007_partition_usage_by_day";
/** The migration an installation of the release before partitioning stopped at. */
const BEFORE_PARTITIONING = (() => {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const index = journal.entries.findIndex((entry) => entry.tag === PARTITIONING_TAG);
  return journal.entries[index - 1]!.tag;
})();

const DAY_MS = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const databases: TestDatabase[] = [];
const clients: Sql[] = [];
async function database(): Promise<{ db: TestDatabase; sql: Sql }> {
  const db = await createTestDatabase();
  databases.push(db);
  const sql = postgres(db.url, { max: 2, onnotice: () => {}, fetch_types: false });
  clients.push(sql);
  return { db, sql };
}
const reader = `llmt_reader_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

afterAll(async () => {
  await Promise.all(clients.map((sql) => sql.end()));
  await Promise.all(databases.map((db) => db.drop()));
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {}, fetch_types: false });
  await admin.unsafe(`DROP ROLE IF EXISTS ${reader}`).finally(() => admin.end());
});

/** Rows spread over `days` UTC days ending three days ago, microsecond timestamps, some without user or node. */
async function seedOldRows(sql: Sql, count: number, days: number): Promise<void> {
  await sql`
    INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens,
      reasoning_tokens, success, error, metadata, created_at, provider, latency_ms, cost_usd, price_version)
    SELECT gen_random_uuid(), CASE WHEN g % 9 = 0 THEN NULL ELSE 'user-' || (g % 7) END, 'model-' || (g % 4),
      g % 300, g % 50, g % 300 + g % 50, g % 30, g % 5, g % 11 <> 0, CASE WHEN g % 11 = 0 THEN 'boom' END,
      CASE WHEN g % 5 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('node_name', 'node-' || (g % 3), 'extra', g) END,
      ${new Date(today - (days + 3) * DAY_MS).toISOString()}::timestamptz + (g * 7919 % (${days} * 86400000000::int8)) * interval '1 microsecond',
      'openai', CASE WHEN g % 13 = 0 THEN NULL ELSE g * 17 END, CASE WHEN g % 6 = 0 THEN NULL ELSE (g * 0.0000013)::numeric(20, 10) END, 'v1'
    FROM generate_series(1, ${count}) AS g`;
}

/** Every row, every column, as text: what "kept exactly" compares. */
async function allRows(sql: Sql): Promise<string[]> {
  const rows = await sql<{ r: string }[]>`SELECT u::text AS r FROM llm_tracker_usage AS u ORDER BY id`;
  return rows.map((row) => row.r);
}

/** The rollup summed per key (compaction-independent). */
async function rollupTotals(sql: Sql): Promise<string[]> {
  const rows = await sql<{ r: string }[]>`
    SELECT concat_ws('|', grain, dimension, bucket, key_is_null, key, sum(calls), sum(successful_calls), sum(prompt_tokens),
      sum(completion_tokens), sum(total_tokens), sum(cached_tokens), sum(reasoning_tokens), sum(cost_usd)::numeric(30, 10), sum(unpriced_calls),
      sum(latency_ms_sum), sum(latency_calls)) AS r
    FROM llm_tracker_usage_rollup GROUP BY grain, dimension, bucket, key_is_null, key
    HAVING sum(calls) <> 0 OR sum(latency_calls) <> 0 ORDER BY 1`;
  return rows.map((row) => row.r);
}

/** The rollup totals the raw rows imply; equal to rollupTotals when the rollup is exact. */
async function rollupFromRows(sql: Sql): Promise<string[]> {
  const rows = await sql<{ r: string }[]>`
    SELECT concat_ws('|', grain, dimension, bucket, key_is_null, key,
      count(*), count(*) FILTER (WHERE success), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens),
      sum(cached_tokens), sum(reasoning_tokens), coalesce(sum(cost_usd), 0)::numeric(30, 10), count(*) FILTER (WHERE cost_usd IS NULL),
      coalesce(sum(latency_ms), 0), count(latency_ms)) AS r
    FROM (
      SELECT g.grain, k.dimension,
        CASE g.grain WHEN 'five_minutes' THEN date_bin('5 minutes', u.created_at, '2000-01-01T00:00:00Z')
          WHEN 'half_hour' THEN date_bin('30 minutes', u.created_at, '2000-01-01T00:00:00Z')
          ELSE date_trunc(g.grain, u.created_at, 'UTC') END AS bucket,
        k.value IS NULL AS key_is_null, coalesce(k.value, '') AS key, u.*
      FROM llm_tracker_usage u
      CROSS JOIN (VALUES ('five_minutes'), ('half_hour'), ('hour'), ('day')) AS g(grain)
      CROSS JOIN LATERAL (VALUES ('model', u.model), ('user', u.user_id), ('node', u.metadata ->> 'node_name'), ('total', '')) AS k(dimension, value)
      -- No half hours per user (drizzle/0009).
      WHERE NOT (g.grain = 'half_hour' AND k.dimension = 'user')
    ) AS keyed
    GROUP BY grain, dimension, bucket, key_is_null, key ORDER BY 1`;
  return rows.map((row) => row.r);
}

async function partitions(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'llm_tracker_usage'::regclass ORDER BY 1`;
  return rows.map((row) => row.name);
}

async function indexNames(sql: Sql): Promise<string[]> {
  const rows = await sql<{ indexname: string }[]>`SELECT indexname FROM pg_indexes WHERE tablename = 'llm_tracker_usage' ORDER BY 1`;
  return rows.map((row) => row.indexname);
}

const partitionOf = (ms: number) => `llm_tracker_usage_p${isoDay(ms).replaceAll("-", "")}`;

describe("migrating a populated installation to the partitioned table", () => {
  let sql: Sql;
  let before: { rows: string[]; rollup: string[]; summary: unknown; byModel: unknown; byDay: unknown; days: string[]; indexes: string[] };
  const range = [isoDay(today - 30 * DAY_MS), isoDay(today)] as const;

  beforeAll(async () => {
    const made = await database();
    sql = made.sql;
    await migrateUntil(made.db.url, BEFORE_PARTITIONING);
    await seedOldRows(sql, 20_000, 12);
    // What a later migration or an operator may have added: an index, a grant.
    await sql`CREATE INDEX llm_tracker_usage_provider_idx ON llm_tracker_usage (provider, created_at) WHERE NOT success`;
    await sql.unsafe(`CREATE ROLE ${reader}`);
    await sql.unsafe(`GRANT SELECT ON llm_tracker_usage TO ${reader}`);
    const days = await sql<{ d: string }[]>`SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYYMMDD') AS d FROM llm_tracker_usage ORDER BY 1`;
    before = {
      rows: await allRows(sql),
      rollup: await rollupTotals(sql),
      summary: await getSummaryStats(...range, { db: sql }),
      byModel: await getStatsByModel(...range, { db: sql, timeZone: "Asia/Kolkata" }),
      byDay: await getStatsByDay(...range, { db: sql, timeZone: "America/New_York" }),
      days: days.map((row) => `llm_tracker_usage_p${row.d}`),
      indexes: await indexNames(sql),
    };
    await runMigrations(made.db.url);
  });

  it("keeps every row exactly: same ids, same values, none lost, none doubled", async () => {
    expect(before.rows).toHaveLength(20_000);
    expect(await allRows(sql)).toEqual(before.rows);
    const [counts] = await sql<{ rows: number; ids: number }[]>`SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM llm_tracker_usage`;
    expect(counts).toEqual({ rows: 20_000, ids: 20_000 });
  });

  it("partitions by UTC day: one partition per day with rows, today and the week ahead, a default one; no rows in the default", async () => {
    const [table] = await sql<{ kind: string; key: string }[]>`
      SELECT c.relkind AS kind, pg_get_partkeydef(c.oid) AS key FROM pg_class c WHERE c.oid = 'llm_tracker_usage'::regclass`;
    expect(table).toEqual({ kind: "p", key: "RANGE (created_at)" });
    const names = await partitions(sql);
    const ahead = Array.from({ length: 8 }, (_, i) => partitionOf(today + i * DAY_MS));
    expect(names).toEqual([...new Set([...before.days, ...ahead, "llm_tracker_usage_default"])].sort());
    const [bound] = await sql<{ bound: string }[]>`
      SELECT pg_get_expr(relpartbound, oid) AS bound FROM pg_class WHERE relname = ${partitionOf(today)}`;
    const midnight = new Date(today).toISOString().slice(0, 10);
    expect(bound!.bound).toContain(`FROM ('${midnight} 00:00:00+00')`);
    const [inDefault] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM llm_tracker_usage_default`;
    expect(inDefault!.n).toBe(0);
  });

  it("keys rows by (created_at, id) and carries every other index, trigger and grant of the old table", async () => {
    const [key] = await sql<{ def: string }[]>`
      SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'llm_tracker_usage'::regclass AND contype = 'p'`;
    expect(key!.def).toBe("PRIMARY KEY (created_at, id)");
    // Every index of the old table by name (whichever migrations made them), the key's included.
    expect(before.indexes).toEqual(expect.arrayContaining(["llm_tracker_usage_created_at_idx", "llm_tracker_usage_pkey", "llm_tracker_usage_provider_idx"]));
    expect(await indexNames(sql)).toEqual(before.indexes);
    const [partial] = await sql<{ def: string }[]>`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'llm_tracker_usage_provider_idx'`;
    expect(partial!.def).toContain("WHERE (NOT success)");
    // Each partition has its own copy of every index.
    const [perPartition] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = ${partitionOf(today)}`;
    expect(perPartition!.n).toBe(before.indexes.length);
    const triggers = await sql<{ tgname: string }[]>`
      SELECT tgname FROM pg_trigger WHERE tgrelid = 'llm_tracker_usage'::regclass AND NOT tgisinternal ORDER BY 1`;
    expect(triggers.map((row) => row.tgname)).toEqual(["llm_tracker_usage_rollup_delete", "llm_tracker_usage_rollup_insert", "llm_tracker_usage_rollup_update"]);
    const [granted] = await sql<{ ok: boolean }[]>`SELECT has_table_privilege(${reader}, 'llm_tracker_usage', 'SELECT') AS ok`;
    expect(granted!.ok).toBe(true);
    const [leftover] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'llm_tracker_usage_unpartitioned'`;
    expect(leftover!.n).toBe(0);
  });

  it("leaves the rollup as it was, and the stats answer the same", async () => {
    // Migration 0009, applied here after 0007, adds a grain (test/db/half-hour-rollup-migration.test.ts); the rest is untouched.
    expect((await rollupTotals(sql)).filter((row) => !row.startsWith("half_hour|"))).toEqual(before.rollup);
    expect(await getSummaryStats(...range, { db: sql })).toEqual(before.summary);
    expect(await getStatsByModel(...range, { db: sql, timeZone: "Asia/Kolkata" })).toEqual(before.byModel);
    expect(await getStatsByDay(...range, { db: sql, timeZone: "America/New_York" })).toEqual(before.byDay);
  });

  it("keeps the rollup exact for rows written, re-priced, moved across days and deleted afterwards", async () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      makeEvent({ created_at: new Date(today - (i % 10) * DAY_MS + i * 1_000).toISOString(), user_id: `late-${i % 4}`, model: `model-${i % 3}` }),
    );
    expect(await insertUsageRows(sql, events)).toEqual({ inserted: 300 });
    await sql`UPDATE llm_tracker_usage SET cost_usd = 0.5 WHERE user_id = 'late-1'`;
    // Moves rows into the next day's partition (and some of today's into tomorrow's).
    await sql`UPDATE llm_tracker_usage SET created_at = created_at + interval '1 day 3 hours' WHERE user_id = 'late-2'`;
    await sql`DELETE FROM llm_tracker_usage WHERE user_id = 'late-3' OR model = 'model-0' AND created_at < ${new Date(today - 5 * DAY_MS).toISOString()}`;
    expect(await rollupTotals(sql)).toEqual(await rollupFromRows(sql));
  });
});

describe("migrating while a worker of this release writes", () => {
  it("holds the writer until the conversion commits, then takes its rows: none lost, none doubled, rollup exact", async () => {
    const { db, sql } = await database();
    await migrateUntil(db.url, BEFORE_PARTITIONING);
    await seedOldRows(sql, 50_000, 20);
    const writer = postgres(db.url, { max: 1, onnotice: () => {}, fetch_types: false });
    clients.push(writer);
    const written: string[] = [];
    const failures: unknown[] = [];
    let migrated = false;
    let batchesAfter = 0;
    // Batches of 50 events stamped now, one after the other, as the worker writes them.
    const writing = (async () => {
      while (batchesAfter < 5) {
        const events = Array.from({ length: 50 }, () => makeEvent({ created_at: new Date().toISOString() }));
        try {
          await insertUsageRows(writer, events);
          written.push(...events.map((event) => event.id));
        } catch (error) {
          failures.push(error);
          if (failures.length > 20) return;
        }
        if (migrated) batchesAfter += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await runMigrations(db.url);
    migrated = true;
    await writing;
    expect(failures).toEqual([]);
    expect(written.length).toBeGreaterThan(250);
    const [counts] = await sql<{ rows: number; ids: number; ours: number }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(*) FILTER (WHERE id IN (SELECT value::uuid FROM json_array_elements_text(${JSON.stringify(written)}::text::json)))::int AS ours
      FROM llm_tracker_usage`;
    expect(counts).toEqual({ rows: 50_000 + written.length, ids: 50_000 + written.length, ours: written.length });
    const [kind] = await sql<{ kind: string }[]>`SELECT relkind AS kind FROM pg_class WHERE oid = 'llm_tracker_usage'::regclass`;
    expect(kind!.kind).toBe("p");
    expect(await rollupTotals(sql)).toEqual(await rollupFromRows(sql));
  });
});

describe("a redelivered event on the partitioned table", () => {
  it("is a no-op through the worker's insert: same id and producer-stamped created_at, in a day partition or the default one", async () => {
    const { db, sql } = await database();
    await runMigrations(db.url);
    // Today (its partition exists), and a day years ahead (no partition: the default one).
    const events = [
      ...Array.from({ length: 20 }, () => makeEvent({ created_at: new Date().toISOString() })),
      ...Array.from({ length: 5 }, () => makeEvent({ created_at: "2031-05-06T07:08:09.123456+00:00" })),
    ];
    expect(await insertUsageRows(sql, events)).toEqual({ inserted: 25 });
    const rollup = await rollupTotals(sql);
    // A whole batch redelivered, then one mixed with new events.
    expect(await insertUsageRows(sql, events)).toEqual({ inserted: 0 });
    const fresh = makeEvent({ created_at: new Date().toISOString() });
    expect(await insertUsageRows(sql, [events[3]!, fresh, events[22]!])).toEqual({ inserted: 1 });
    const [counts] = await sql<{ rows: number; in_default: number }[]>`
      SELECT count(*)::int AS rows, count(*) FILTER (WHERE tableoid = 'llm_tracker_usage_default'::regclass)::int AS in_default
      FROM llm_tracker_usage`;
    expect(counts).toEqual({ rows: 26, in_default: 5 });
    await sql`DELETE FROM llm_tracker_usage WHERE id = ${fresh.id}`;
    expect(await rollupTotals(sql)).toEqual(rollup);
  });
});
