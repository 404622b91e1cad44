// The node flags the worker is deployed with (the heap limit), read from the
// `start` script in package.json, so the benchmark runs the worker exactly as
// shipped; the Dockerfile's NODE_OPTIONS is checked to carry the same flags.
import { readFileSync } from "node:fs";

const ROOT = new URL("../../", import.meta.url);
const ENTRY = "dist/src/cli/main.js";

/** The deployed worker's node flags; throws when package.json's start script and the Dockerfile disagree. */
export function deployedNodeArgs(): string[] {
  const pkg = JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { scripts: { start: string } };
  const start = pkg.scripts.start.split(/\s+/);
  const entry = start.indexOf(ENTRY);
  if (start[0] !== "node" || entry < 0) throw new Error(`package.json start: expected "node [flags] ${ENTRY} worker", got ${pkg.scripts.start}`);
  const flags = start.slice(1, entry);
  const docker = /^ENV NODE_OPTIONS=("?)([^"\n]*)\1\s*$/m.exec(readFileSync(new URL("Dockerfile", ROOT), "utf8"));
  const dockerFlags = docker?.[2]!.split(/\s+/).filter(Boolean) ?? [];
  if (flags.join(" ") !== dockerFlags.join(" ")) {
    throw new Error(`worker node flags differ: package.json start "${flags.join(" ")}" vs Dockerfile NODE_OPTIONS "${dockerFlags.join(" ")}"`);
  }
  return flags;
}
