// Brings a database to the state an older release left it in: the shipped
// migrations up to and including `lastTag`, applied as drizzle would have then.
// A later runMigrations() applies the rest, as an upgrade does.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { migrationsFolder } from "../../src/db/migrate.js";

export async function migrateUntil(databaseUrl: string, lastTag: string): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "llmt-migrations-"));
  try {
    cpSync(migrationsFolder(), folder, { recursive: true });
    const journalPath = join(folder, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
    const last = journal.entries.findIndex((entry) => entry.tag === lastTag);
    if (last < 0) throw new Error(`no migration tagged ${lastTag}`);
    journal.entries = journal.entries.slice(0, last + 1);
    writeFileSync(journalPath, JSON.stringify(journal));
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, fetch_types: false });
    try {
      await migrate(drizzle(sql), { migrationsFolder: folder });
    } finally {
      await sql.end();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
