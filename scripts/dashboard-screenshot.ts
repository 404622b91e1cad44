// `npx tsx scripts/dashboard-screenshot.ts [out.png]`: seeds a scratch database
// with 30 days of plausible usage, serves the dashboard over it, opens it in
// headless Chromium (Debian's /usr/bin/chromium) and saves a screenshot —
// docs/dashboard.png by default — and prints how long the page took to show
// its data and each API route's median time over 5 requests. Needs the local Postgres.
import postgres from "postgres";
import { chromium } from "playwright-core";
import { startDashboardServer } from "../src/dashboard/dashboard-server.js";
import { runMigrations } from "../src/db/migrate.js";
import { createTestDatabase } from "../test/support/test-database.js";
import { insertRows, usageHistory } from "../test/dashboard/support/usage-history.js";

const out = process.argv[2] ?? "docs/dashboard.png";
const hash = process.argv[3] ?? "#range=7d&tz=Asia%2FShanghai";
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const database = await createTestDatabase("llmt_screenshot");
const sql = postgres(database.url, { onnotice: () => {}, fetch_types: false });
const server = await (async () => {
  await runMigrations(database.url);
  const rows = usageHistory({ now: new Date(), days: 31, callsPerHour: 14, seed: 7 });
  await insertRows(sql, rows);
  console.log(`seeded ${rows.length} rows over 31 days`);
  await sql`INSERT INTO llm_tracker_usage (id, user_id, model, provider, prompt_tokens, completion_tokens, total_tokens, success, error, metadata, created_at)
    VALUES (gen_random_uuid(), ${"<img src=x onerror=alert(1)>"}, 'gpt-4o', 'openai', 12, 0, 12, false,
      ${"400 Invalid 'messages[0].content': <script>alert('x')</script>"}, ${sql.json({ node_name: "interpret" })}, now() - interval '20 minutes')`;
  return startDashboardServer({ port: 0, db: sql });
})();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(process.env.WIDTH ?? 1600), height: 1240 }, deviceScaleFactor: 1 });
  page.on("console", (message) => console.log(`[page ${message.type()}] ${message.text()}`));
  const started = performance.now();
  await page.goto(`${server.url.replace(/\/$/, "")}/${hash}`);
  await page.waitForSelector("body[data-state=ready], body[data-state=error]");
  console.log(`page showed its data ${Math.round(performance.now() - started)} ms after navigation`);
  const range = await page.$eval("#range-label", (label) => [label.getAttribute("data-from"), label.getAttribute("data-to"), label.getAttribute("data-tz")]);
  const query = `from=${range[0]}&to=${range[1]}&tz=${encodeURIComponent(range[2]!)}`;
  const pageRoutes = ["summary", "over-time?bucket=hour&group_by=model&limit=7&format=columns", "over-time?bucket=hour&format=columns", "by-model?limit=50", "by-user?limit=50", "by-node?limit=50", "failures?limit=50"];
  for (const route of [...pageRoutes, "by-model?user=alice%40acme.io"]) {
    const url = `${server.url}api/${route}${route.includes("?") ? "&" : "?"}${query}`;
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const t = performance.now();
      await (await fetch(url)).arrayBuffer();
      times.push(performance.now() - t);
    }
    console.log(`  /api/${route}: median ${median(times).toFixed(1)} ms`);
  }
  await page.screenshot({ path: out, fullPage: process.env.FULL_PAGE === "1" });
  console.log(`saved ${out} (state ${await page.getAttribute("body", "data-state")})`);
} finally {
  await browser.close();
  await server.close();
  await sql.end();
  await database.drop();
}
