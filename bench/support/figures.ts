// Small helpers the benchmarks share: percentiles, timing, and a printed table.
import { performance } from "node:perf_hooks";

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function median(values: readonly number[]): number {
  return percentile(sortedCopy(values), 50);
}

/** Microseconds elapsed since `start` (a performance.now() reading). */
export function microsSince(start: number): number {
  return (performance.now() - start) * 1000;
}

/** Calls `fn` `runs` times in a row: the median time in ms, and the last result. */
export async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<{ ms: number; result: unknown }> {
  let result: unknown;
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    result = await fn();
    times.push(performance.now() - start);
  }
  return { ms: median(times), result };
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - start) / 1000 };
}

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  target: string;
  verdict: string;
}

export function verdict(ok: boolean): string {
  return ok ? "meets" : "MISSES";
}

export function printTable(title: string, rows: Row[]): void {
  const headers: Row = { figure: "figure", value: "measured", baseline: "baseline (same run)", target: "target", verdict: "" };
  const all = [headers, ...rows];
  const widths = (Object.keys(headers) as (keyof Row)[]).map((key) => Math.max(...all.map((r) => r[key].length)));
  const line = (r: Row) => `| ${(Object.keys(headers) as (keyof Row)[]).map((key, i) => r[key].padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

export const fmt = {
  us: (v: number) => `${v.toFixed(1)} µs`,
  ms: (v: number) => `${v.toFixed(1)} ms`,
  rate: (v: number) => `${Math.round(v).toLocaleString("en-US")}/s`,
  ratio: (v: number) => v.toFixed(2),
  bytes: (v: number) => `${Math.round(v).toLocaleString("en-US")} B`,
  mb: (v: number) => `${(v / 1024 / 1024).toFixed(0)} MB`,
};
