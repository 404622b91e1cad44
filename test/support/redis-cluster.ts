// A real three-node Redis Cluster for one test file: three `redis-server
// --cluster-enabled yes` processes on loopback ports, in a temporary directory,
// joined by `redis-cli --cluster create`. Nothing persists; stop() kills them.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";
import { waitFor } from "./wait-for.js";

export interface RedisClusterProcess {
  /** The seed node's URL (any node will do: clients discover the others). */
  url: string;
  ports: number[];
  /** Kills one node (SIGKILL) and returns its port. */
  killNode(index: number): void;
  /** Kills every node and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

async function canBind(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535 || taken.has(port) || taken.has(port + 10_000)) continue;
    if (await canBind(port + 10_000)) return port;
  }
}

async function clusterState(port: number): Promise<string> {
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    const info = await client.cluster("INFO");
    return /cluster_state:(\w+)/.exec(String(info))?.[1] ?? "unknown";
  } catch {
    return "down";
  } finally {
    client.disconnect();
  }
}

export async function startRedisCluster(nodes = 3): Promise<RedisClusterProcess> {
  const dir = await mkdtemp(join(tmpdir(), "llmt-redis-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < nodes; i += 1) {
    const port = await clusterPort(taken);
    taken.add(port).add(port + 10_000);
    ports.push(port);
  }
  const children: ChildProcess[] = [];
  // Whatever happens to the test process, the nodes do not outlive it.
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  const stop = async () => {
    killAll();
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once("exit", r)) : undefined)));
    process.removeListener("exit", killAll);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = spawn(
        "redis-server",
        [
          "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
          "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "2000",
          "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, `redis-${port}.log`),
        ],
        { stdio: "ignore" },
      );
      child.on("error", () => {});
      children.push(child);
    }
    for (const port of ports) await waitFor(async () => (await clusterState(port)) !== "down", 10_000, `redis node ${port} to start`);
    const created = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) await waitFor(async () => (await clusterState(port)) === "ok", 20_000, `redis node ${port} to see the cluster ok`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    ports,
    killNode(index) {
      children[index]?.kill("SIGKILL");
    },
    stop,
  };
}
