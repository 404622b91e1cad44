// What the Postgres fault tests share: the fragile moments of a fresh
// connection, a proxied URL carrying a password that must never be printed,
// and the check that a job child survived its faults.
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { fatalErrorReport, jsonLines, spawnScript } from "./script-process.js";
import type { FaultPlan, FaultPoint, TcpProxy } from "./tcp-proxy.js";

/** Where a Postgres restart hurts a client most: each is a cut followed by a refusal window. */
export const FRAGILE_MOMENTS: FaultPoint[] = ["pg-first-query", "pg-after-handshake", "pg-mid-query"];

/** How long the proxy refuses connections after each cut, as a restarting server: "a second or two". */
export const REFUSE_MS = 1_000;

/** Never sent (trust auth does not ask for it), so it may only reach the output through a leak. */
export const PASSWORD = "fault-test-secret";

export function plans(moments: FaultPoint[] = FRAGILE_MOMENTS): FaultPlan[] {
  return moments.map((at) => ({ at, refuseMs: REFUSE_MS }));
}

/** `databaseUrl` through the proxy, with a password. */
export function viaProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.port = String(proxy.port);
  url.password = PASSWORD;
  return url.toString();
}

/** The connection failures a caller may see while Postgres restarts. */
export const CONNECTION_FAILURE = /ECONNREFUSED|ECONNRESET|CONNECTION_CLOSED|CONNECTION_DESTROYED|CONNECT_TIMEOUT|EPIPE|57P0[123]/;

export interface JobAttempt {
  round?: number;
  attempt?: number;
  ok?: boolean;
  code?: string;
  error?: string;
  result?: unknown;
  done?: boolean;
}

const JOB_CHILD = fileURLToPath(new URL("./postgres-job-child.ts", import.meta.url));

/**
 * Runs `job` in a child process through `proxy`, once per moment, with the
 * proxy cutting one fresh connection at each moment in turn, and checks the
 * process lived: exit 0, "done" printed, every failure a connection error that
 * names its cause, every round ended in success, no password anywhere. Returns the attempts.
 */
export async function runJobThroughFaults(job: string, databaseUrl: string, proxy: TcpProxy, moments: FaultPoint[] = FRAGILE_MOMENTS): Promise<JobAttempt[]> {
  await proxy.settled();
  proxy.arm(...plans(moments));
  const rounds = moments.length;
  const child = spawnScript(JOB_CHILD, [job, String(rounds)], { DATABASE_URL: viaProxy(databaseUrl, proxy), LLM_TRACKER_LOG_LEVEL: "warn" });
  const exit = await child.exited;
  const output = child.output();
  expect(fatalErrorReport(output), `${job} child died:\n${output.slice(-3000)}`).toBeUndefined();
  expect(exit, output.slice(-3000)).toEqual({ code: 0, signal: null });
  expect(output).not.toContain(PASSWORD);
  const lines = jsonLines<JobAttempt>(output);
  expect(lines.at(-1)).toEqual({ done: true });
  const attempts = lines.slice(0, -1);
  for (const failure of attempts.filter((a) => !a.ok)) expect(`${failure.code ?? ""} ${failure.error ?? ""}`).toMatch(CONNECTION_FAILURE);
  // Every round ended in success.
  expect(attempts.filter((a) => a.ok).map((a) => a.round)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
  // Each planned cut happened: the test did what it says.
  expect(proxy.faults).toEqual(moments);
  return attempts;
}
