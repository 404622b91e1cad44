// Private Postgres servers for one test file or benchmark, in a temporary
// directory on loopback ports: `initdb` for a primary and, when asked,
// `pg_basebackup -R` for its streaming replica, each a `postgres` process of its
// own. The machine's shared Postgres is left alone. stop() ends them.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./free-port.js";
import { waitFor } from "./wait-for.js";

const BIN = process.env.TEST_POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresServers {
  /** postgres://postgres@127.0.0.1:<port>/<database> on the primary. */
  primaryUrl(database: string): string;
  /** The primary's postmaster process id (its backends are its children). */
  primaryPid: number;
  /** The same database on the replica (read-only, hot standby); throws without one. */
  replicaUrl(database: string): string;
  /** Waits until the replica has replayed everything the primary had written when called. */
  caughtUp(): Promise<void>;
  /** Stops and restarts WAL replay on the replica: the stats there lag while it is paused. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops both servers and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Postgres refuses to run as root: under root the binaries run as the `postgres` user. */
function command(binary: string, args: string[]): [string, string[]] {
  const path = join(BIN, binary);
  if (process.getuid?.() !== 0) return [path, args];
  return ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", path, ...args]];
}

function runOrThrow(binary: string, args: string[]): void {
  const [file, argv] = command(binary, args);
  const result = spawnSync(file, argv, { encoding: "utf8", timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${binary} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export interface PostgresServerOptions {
  /** Start a streaming replica too. Default false. */
  replica?: boolean;
  /** fsync on, as in production (benchmarks); off makes tests faster. Default false. */
  fsync?: boolean;
}

export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServers> {
  const dir = mkdtempSync(join(tmpdir(), "llmt-pg-pair-"));
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const user = process.getuid?.() === 0 ? "postgres" : userInfo().username;
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const servers: ChildProcess[] = [];
  const url = (port: number, database: string) => `postgres://${user === "postgres" ? "postgres" : encodeURIComponent(user)}@127.0.0.1:${port}/${database}`;

  const startServer = (dataDir: string, port: number) => {
    const [file, argv] = command("postgres", [
      "-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`,
      "-c", `fsync=${options.fsync ? "on" : "off"}`, "-c", "max_connections=40",
    ]);
    const child = spawn(file, argv, { stdio: "ignore" });
    child.on("error", () => {});
    servers.push(child);
  };
  const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
  const killAll = () => {
    for (const child of servers) if (alive(child)) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Fast shutdown first (SIGINT), so no backend outlives its postmaster; SIGKILL if that hangs.
      for (const child of servers) if (alive(child)) child.kill("SIGINT");
      await Promise.all(
        servers.map((child) =>
          alive(child)
            ? Promise.race([new Promise((resolve) => child.once("exit", resolve)), new Promise((resolve) => setTimeout(resolve, 10_000))])
            : undefined,
        ),
      );
      killAll();
      process.removeListener("exit", killAll);
      rmSync(dir, { recursive: true, force: true });
    })());

  const query = async <T>(port: number, run: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
    const sql = postgres(url(port, "postgres"), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      return await run(sql);
    } finally {
      await sql.end({ timeout: 1 });
    }
  };
  const answers = (port: number) => query(port, (sql) => sql`select 1`).then(() => true, () => false);

  try {
    runOrThrow("initdb", ["-D", join(dir, "primary"), "-U", user, "--auth=trust", "--no-sync", "--no-instructions"]);
    startServer(join(dir, "primary"), primaryPort);
    await waitFor(() => answers(primaryPort), 20_000, "the primary to accept connections");
    if (options.replica) {
      runOrThrow("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primaryPort), "-U", user, "-D", join(dir, "replica"), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"]);
      startServer(join(dir, "replica"), replicaPort);
      await waitFor(() => answers(replicaPort), 20_000, "the replica to accept connections");
      await waitFor(
        () => query(primaryPort, async (sql) => (await sql`select count(*)::int as n from pg_stat_replication where state = 'streaming'`)[0]!.n === 1),
        20_000,
        "the replica to stream from the primary",
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    primaryUrl: (database) => url(primaryPort, database),
    primaryPid: servers[0]!.pid!,
    replicaUrl(database) {
      if (!options.replica) throw new Error("started without a replica");
      return url(replicaPort, database);
    },
    async caughtUp() {
      const [{ lsn }] = (await query(primaryPort, (sql) => sql`select pg_current_wal_lsn()::text as lsn`)) as unknown as [{ lsn: string }];
      await waitFor(
        () => query(replicaPort, async (sql) => (await sql`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as ok`)[0]!.ok as boolean),
        20_000,
        "the replica to catch up",
      );
    },
    async pauseReplay() {
      // Once requested, no further WAL record is applied (recovery checks before each one).
      await query(replicaPort, (sql) => sql`select pg_wal_replay_pause()`);
      await waitFor(
        () => query(replicaPort, async (sql) => (await sql`select pg_get_wal_replay_pause_state() as s`)[0]!.s !== "not paused"),
        10_000,
        "replay to pause",
      );
    },
    resumeReplay: () => query(replicaPort, (sql) => sql`select pg_wal_replay_resume()`).then(() => undefined),
    stop,
  };
}
