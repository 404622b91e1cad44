// `npm run bench` / `npm run bench:quick`: runs every section in bench/sections/
// (known ones in a fixed order, any other file after them) and prints one table.
import { readdirSync } from "node:fs";
import { printTable, type Row } from "./support/figures.js";
import type { BenchSection } from "./support/section.js";

const ORDER = ["call-path", "streaming", "ingest", "stats-scale", "budgets"];

const quick = process.argv.includes("--quick");
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length).split(",");

const files = readdirSync(new URL("./sections/", import.meta.url))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.slice(0, -3));
const names = [...ORDER.filter((name) => files.includes(name)), ...files.filter((name) => !ORDER.includes(name)).sort()].filter(
  (name) => !only || only.includes(name),
);

const rows: Row[] = [];
for (const name of names) {
  const section = ((await import(`./sections/${name}.ts`)) as { default: BenchSection }).default;
  console.log(`\n== ${section.title}${quick ? " (quick)" : ""} ==`);
  rows.push(...(await section.run({ quick })));
}
printTable(`llm-tracker benchmarks${quick ? " (quick sizes)" : ""}`, rows);
