// `npx tsx scripts/dashboard-screenshot.ts [out.png]`: seeds a scratch database
// with 30 days of plausible usage, serves the dashboard over it, opens it in
// headless Chromium (Debian's /usr/bin/chromium) and saves a screenshot —
// docs/dashboard.png by default. Needs the local Postgres.
import postgres from "postgres";
import { chromium } from "playwright-core";
import { startDashboardServer } from "../src/dashboard/dashboard-server.js";
import { runMigrations } from "../src/db/migrate.js";
import { createTestDatabase } from "../test/support/test-database.js";
import { insertRows, usageHistory } from "../test/dashboard/support/usage-history.js";

const out = process.argv[2] ?? "docs/dashboard.png";
const hash = process.argv[3] ?? "#range=7d&tz=Asia%2FShanghai";
const database = await createTestDatabase("llmt_screenshot");
const sql = postgres(database.url, { onnotice: () => {} });
const server = await (async () => {
  await runMigrations(database.url);
  await insertRows(sql, usageHistory({ now: new Date(), days: 31, callsPerHour: 14, seed: 7 }));
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
  const page = await browser.newPage({ viewport: { width: 1600, height: 1240 }, deviceScaleFactor: 1 });
  page.on("console", (message) => console.log(`[page ${message.type()}] ${message.text()}`));
  await page.goto(`${server.url.replace(/\/$/, "")}/${hash}`);
  await page.waitForSelector("body[data-state=ready], body[data-state=error]");
  await page.screenshot({ path: out, fullPage: process.env.FULL_PAGE === "1" });
  console.log(`saved ${out} (state ${await page.getAttribute("body", "data-state")})`);
} finally {
  await browser.close();
  await server.close();
  await sql.end();
  await database.drop();
}
