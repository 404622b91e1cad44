// A TCP proxy in front of the real Postgres or Redis that the test can cut,
// restore, or arm to kill a connection at one exact protocol moment and then
// refuse connections for a while, as a restarting server does.
import { createServer, connect, type Server, type Socket } from "node:net";
import { PostgresFrameScanner, RespFrameScanner } from "./wire-frames.js";

/**
 * Where an armed proxy cuts a connection (both sockets destroyed at once):
 * - `pg-after-handshake`: just after the server's first ReadyForQuery reached the client.
 * - `pg-first-query`: the client's first Query or Parse after the handshake, before it
 *   reaches the server (with postgres.js's `fetch_types` on, its array-types query).
 * - `pg-mid-query`: the server's first answer after that query, half delivered.
 * - `redis-command`: the client's first `command` (e.g. `CLIENT`, `INFO`, sent while
 *   connecting), before it reaches Redis.
 * - `redis-mid-pipeline`: the connection's first Lua script command (EVAL/EVALSHA: BullMQ
 *   sends one per job, `addBulk` a pipeline of them) reached Redis and ran, the second did not.
 * - `redis-reply-lost`: the connection's first script command ran on Redis; its reply
 *   never reaches the client.
 */
export type FaultPoint =
  | "pg-after-handshake"
  | "pg-first-query"
  | "pg-mid-query"
  | "redis-command"
  | "redis-mid-pipeline"
  | "redis-reply-lost";

export interface FaultPlan {
  at: FaultPoint;
  /** For `redis-command`: the command name, upper case. */
  command?: string;
  /** Connections to cut (each at its first arrival at `at`). Default 1. */
  times?: number;
  /** Connections reaching `at` to let through before cutting. Default 0. */
  skip?: number;
  /** After each cut, the port refuses connections (ECONNREFUSED) for this long, in ms. Default 1500. */
  refuseMs?: number;
}

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** The cuts made since the last arm(), in order. */
  readonly faults: readonly FaultPoint[];
  /** Drops every connection and refuses new ones (the port stays reserved for us). */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Arms fault plans, carried out one after the other (replacing any armed earlier). */
  arm(...plans: FaultPlan[]): void;
  /** Plans armed and not yet carried out. */
  readonly pendingPlans: number;
  /** Drops every open connection and refuses new ones for `refuseMs`, as a restarting server. */
  restart(refuseMs: number): void;
  /** Resolves once no refusal window is running (the port accepts again). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** Which protocol to follow; needed for armed plans. Default "raw" (no parsing). */
  protocol?: "postgres" | "redis" | "raw";
}

interface Armed {
  plan: FaultPlan;
  skip: number;
  times: number;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1", options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const protocol = options.protocol ?? "raw";
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let accepted = 0;
  let armed: Armed | undefined;
  let queued: FaultPlan[] = [];
  let refusing: Promise<void> | undefined;
  let closed = false;
  const faults: FaultPoint[] = [];

  /** This connection arrived at `point`: the refusal to follow its cut, or undefined to let it through. */
  function shouldCut(point: FaultPoint, command?: string): number | undefined {
    if (!armed || armed.plan.at !== point || armed.times <= 0) return undefined;
    if (point === "redis-command" && armed.plan.command !== command) return undefined;
    if (armed.skip > 0) {
      armed.skip -= 1;
      return undefined;
    }
    const refuseMs = armed.plan.refuseMs ?? 1_500;
    armed.times -= 1;
    faults.push(point);
    if (armed.times <= 0) armed = nextPlan();
    return refuseMs;
  }

  function nextPlan(): Armed | undefined {
    const plan = queued.shift();
    return plan && { plan, skip: plan.skip ?? 0, times: plan.times ?? 1 };
  }

  function refuseFor(ms: number): void {
    const previous = refusing;
    refusing = (async () => {
      await previous;
      await stop();
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (!closed) await listen();
    })();
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        accepted += 1;
        const upstream = connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        let cutting = false;
        const cutHere = (refuseMs: number) => {
          if (cutting) return;
          cutting = true;
          // Let the forwarded part leave first: destroy() drops unflushed data.
          setImmediate(() => {
            drop();
            refuseFor(refuseMs);
          });
        };
        const watcher = protocol === "postgres" ? postgresWatcher(shouldCut) : protocol === "redis" ? redisWatcher(shouldCut) : undefined;
        relay(client, upstream, (chunk) => (cutting ? { forward: 0, refuseMs: 0 } : watcher?.fromClient(chunk)), cutHere);
        relay(upstream, client, (chunk) => (cutting ? { forward: 0, refuseMs: 0 } : watcher?.fromServer(chunk)), cutHere);
      });
      server = listening;
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", () => {
        port = (listening.address() as { port: number }).port;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    get port() {
      return port;
    },
    get accepted() {
      return accepted;
    },
    get faults() {
      return faults;
    },
    cut: stop,
    restore: listen,
    arm(...plans) {
      faults.length = 0;
      queued = plans;
      armed = nextPlan();
    },
    get pendingPlans() {
      return (armed ? 1 : 0) + queued.length;
    },
    restart(refuseMs) {
      refuseFor(refuseMs);
    },
    async settled() {
      let current;
      while ((current = refusing) !== undefined) {
        await current;
        if (refusing === current) refusing = undefined;
      }
    },
    async close() {
      closed = true;
      await refusing;
      await stop();
    },
  };
}

/** What to do with a chunk: forward all of it (undefined), or its first `forward` bytes and then cut, refusing for `refuseMs`. */
type Verdict = { forward: number; refuseMs: number } | undefined;

interface Watcher {
  fromClient(chunk: Buffer): Verdict;
  fromServer(chunk: Buffer): Verdict;
}

/** Forwards `from` → `to` chunk by chunk (with backpressure), letting `inspect` stop it mid-chunk. */
function relay(from: Socket, to: Socket, inspect: (chunk: Buffer) => Verdict, cut: (refuseMs: number) => void): void {
  from.on("data", (chunk: Buffer) => {
    const verdict = inspect(chunk);
    if (verdict) {
      if (verdict.forward > 0) to.write(chunk.subarray(0, verdict.forward));
      from.pause();
      cut(verdict.refuseMs);
      return;
    }
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
}

type CutRule = (point: FaultPoint, command?: string) => number | undefined;

/** A cut at `forward` bytes when the rule says so (it returns the refusal), else undefined. */
function cutAt(refuseMs: number | undefined, forward: number): Verdict {
  return refuseMs === undefined ? undefined : { forward, refuseMs };
}

function postgresWatcher(shouldCut: CutRule): Watcher {
  const client = new PostgresFrameScanner(true);
  const server = new PostgresFrameScanner(false);
  let handshakeDone = false;
  let querySent = false;
  let answerSeen = false;
  return {
    fromClient(chunk) {
      for (const frame of client.scan(chunk)) {
        if (handshakeDone && !querySent && (frame.type === "Q" || frame.type === "P")) {
          querySent = true;
          const verdict = cutAt(shouldCut("pg-first-query"), frame.start);
          if (verdict) return verdict;
        }
      }
      return undefined;
    },
    fromServer(chunk) {
      for (const frame of server.scan(chunk)) {
        if (!handshakeDone && frame.type === "Z" && frame.end !== undefined) {
          handshakeDone = true;
          const verdict = cutAt(shouldCut("pg-after-handshake"), frame.end);
          if (verdict) return verdict;
        } else if (querySent && !answerSeen) {
          answerSeen = true;
          // Half of what has arrived of the answer: the client is left inside a message.
          const verdict = cutAt(shouldCut("pg-mid-query"), frame.start + Math.max(1, Math.floor((chunk.length - frame.start) / 2)));
          if (verdict) return verdict;
        }
      }
      return undefined;
    },
  };
}

function redisWatcher(shouldCut: CutRule): Watcher {
  const client = new RespFrameScanner();
  const server = new RespFrameScanner();
  const seen = new Set<string>();
  /** Commands complete so far; also the index of the one being read. */
  let commands = 0;
  let named = -1;
  let scripts = 0;
  let replies = 0;
  /** The command whose reply must not reach the client: its index and the refusal after the cut. */
  let hideReply: { index: number; refuseMs: number } | undefined;
  const onCommand = (name: string, start: number): Verdict => {
    if (!seen.has(name)) {
      seen.add(name);
      const verdict = cutAt(shouldCut("redis-command", name), start);
      if (verdict) return verdict;
    }
    if (name === "EVAL" || name === "EVALSHA") {
      scripts += 1;
      if (scripts === 2) return cutAt(shouldCut("redis-mid-pipeline"), start);
      const refuseMs = scripts === 1 ? shouldCut("redis-reply-lost") : undefined;
      if (refuseMs !== undefined) hideReply = { index: commands, refuseMs };
    }
    return undefined;
  };
  return {
    fromClient(chunk) {
      for (const frame of client.scan(chunk)) {
        // The name may arrive in a later chunk than the command's first byte: act once, when it is known.
        if (frame.type !== "" && named !== commands) {
          named = commands;
          const verdict = onCommand(frame.type, frame.start);
          if (verdict) return verdict;
        }
        if (frame.end !== undefined) commands += 1;
      }
      return undefined;
    },
    fromServer(chunk) {
      for (const frame of server.scan(chunk)) {
        if (hideReply !== undefined && replies === hideReply.index) return { forward: frame.start, refuseMs: hideReply.refuseMs };
        if (frame.end !== undefined) replies += 1;
      }
      return undefined;
    },
  };
}
