// Compiles the package the way it ships (tsc -p tsconfig.build.json, drizzle/ beside
// dist/) into bench/results/worker-build, so the benchmark runs the worker as
// deployed: `node dist/src/cli/main.js worker`, without tsx's loader in the process.
import { execFile } from "node:child_process";
import { cp, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = fileURLToPath(new URL("../results/worker-build/", import.meta.url));

/** Builds and returns the path of the compiled CLI entry. */
export async function buildWorker(): Promise<string> {
  await rm(OUT, { recursive: true, force: true });
  const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
  await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", `${OUT}dist`], { cwd: ROOT });
  await cp(`${ROOT}drizzle`, `${OUT}drizzle`, { recursive: true });
  return `${OUT}dist/src/cli/main.js`;
}
