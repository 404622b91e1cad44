// Every postgres.js client the project makes outside tests is made by
// createConnection (src/db/connection.ts) or turns fetch_types off: postgres.js's
// array-types query on a new connection rejects where no code listens when that
// connection dies young, which ends the process (porsager/postgres#1192).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Each `postgres(`…`)` call with the text of its arguments (to the matching parenthesis). */
function postgresCalls(text: string): string[] {
  const calls: string[] = [];
  for (const match of text.matchAll(/\bpostgres\(/g)) {
    let depth = 0;
    let end = match.index + "postgres".length;
    for (; end < text.length; end += 1) {
      if (text[end] === "(") depth += 1;
      else if (text[end] === ")" && --depth === 0) break;
    }
    calls.push(text.slice(match.index, end + 1));
  }
  return calls;
}

it("every postgres() client in src, workers, scripts, bench and test/support passes fetch_types: false", () => {
  const files = ["src", "workers", "scripts", "bench", join("test", "support")].flatMap(sourceFiles);
  const offenders: string[] = [];
  let calls = 0;
  for (const file of files) {
    // Comments may name postgres(url) as an example of a caller's own client.
    const code = readFileSync(join(root, file), "utf8").replace(/^\s*(\/\/|\*).*$/gm, "");
    for (const call of postgresCalls(code)) {
      calls += 1;
      if (!/fetch_types:\s*false/.test(call)) offenders.push(`${relative(root, join(root, file))}: ${call.replace(/\s+/g, " ")}`);
    }
  }
  expect(calls).toBeGreaterThan(5); // the scan finds the calls it is meant to check
  expect(offenders).toEqual([]);
});
