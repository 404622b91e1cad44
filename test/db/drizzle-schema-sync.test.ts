// The schema drizzle-kit reads (src/db/schema.ts) and the last migration's
// snapshot agree, so `drizzle-kit generate` writes nothing: in particular it
// does not try to "fix" the primary key of the table drizzle/0007 partitioned
// by hand (drizzle-kit cannot express partitions; docs/scaling.md).
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect, it } from "vitest";
import { migrationsFolder } from "../../src/db/migrate.js";

it("drizzle-kit generate finds no schema change to write", () => {
  const root = join(migrationsFolder(), "..");
  const copy = mkdtempSync(join(tmpdir(), "llmt-drizzle-kit-"));
  try {
    cpSync(migrationsFolder(), join(copy, "drizzle"), { recursive: true });
    const before = readdirSync(join(copy, "drizzle")).sort();
    // drizzle-kit reads --out relative to the working directory.
    const output = execFileSync(
      join(root, "node_modules", ".bin", "drizzle-kit"),
      ["generate", "--dialect", "postgresql", "--schema", "./src/db/schema.ts", "--out", relative(root, join(copy, "drizzle"))],
      { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );
    expect(output).toContain("No schema changes, nothing to migrate");
    expect(readdirSync(join(copy, "drizzle")).sort()).toEqual(before);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}, 60_000);
