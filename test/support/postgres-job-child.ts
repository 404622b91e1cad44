// Run as a child process by the fault tests, with Node's default
// unhandled-rejection mode: does one Postgres job of the library through
// DATABASE_URL (a stats report, a re-pricing, a migration, a createConnection
// query) `rounds` times, each round retried until it succeeds and ended by
// closing the pools, so the next round opens fresh connections. An unhandled
// rejection or exception anywhere kills the process, which the test sees as a
// missing "done" line. Prints one JSON line per attempt and `{"done":true}` at the end.
import { runMigrations } from "../../src/db/migrate.js";
import { close, createConnection, getSummaryStats, recomputeCosts } from "../../src/stats/index.js";

const job = process.argv[2];
const rounds = Number(process.argv[3] ?? "1");
/** Attempts per round: enough to outlast a refusal window of a few seconds. */
const maxAttempts = 40;
const databaseUrl = process.env.DATABASE_URL!;

async function runJob(): Promise<unknown> {
  switch (job) {
    case "stats":
      return getSummaryStats("2020-01-01", "2030-01-01");
    case "recompute":
      return recomputeCosts("2020-01-01", "2030-01-01", { chunkSize: 2 });
    case "migrate":
      await runMigrations(databaseUrl);
      return "migrated";
    case "connection": {
      // A short close: after a connection died mid-query postgres.js waits out the whole timeout.
      const connection = createConnection(databaseUrl, { max: 1, closeTimeoutSeconds: 1 });
      try {
        const [row] = await connection.sql<{ n: number }[]>`select count(*)::int as n from llm_tracker_usage`;
        return row;
      } finally {
        await connection.close();
      }
    }
    default:
      throw new Error(`unknown job ${job}`);
  }
}

const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

for (let round = 1; round <= rounds; round += 1) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      print({ round, attempt, ok: true, result: await runJob() });
      break;
    } catch (error) {
      const { message, code } = error as { message?: string; code?: string };
      print({ round, attempt, ok: false, code, error: message });
      if (attempt >= maxAttempts) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await close();
}
// Stay a moment: a rejection left behind by the failed attempts (postgres.js's
// discarded type query, for one) would surface here and end the process.
await new Promise((resolve) => setTimeout(resolve, 300));
print({ done: true });
