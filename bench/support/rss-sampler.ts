// Samples a process's resident memory (VmRSS in /proc/<pid>/status) on an interval; keeps the maximum.
import { readFileSync } from "node:fs";

export interface RssSampler {
  /** Largest VmRSS seen so far, in bytes. */
  readonly maxBytes: number;
  readonly samples: number;
  stop(): void;
}

function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

export function sampleRss(pid: number, everyMs = 100): RssSampler {
  let maxBytes = 0;
  let samples = 0;
  const take = () => {
    const rss = readRssBytes(pid);
    if (rss === undefined) return;
    samples += 1;
    maxBytes = Math.max(maxBytes, rss);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    get maxBytes() {
      return maxBytes;
    },
    get samples() {
      return samples;
    },
    stop: () => clearInterval(timer),
  };
}
