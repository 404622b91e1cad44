// The page in a real headless Chromium, served by the real `llm-tracker
// dashboard` command over a real Postgres: what it shows equals what the stats
// library answers for the same range, zone and filter; switching them changes
// the figures as the library says; CSV exports equal the tables; names and
// errors chosen by outsiders stay text; the token flow works in a browser.
import { readFile } from "node:fs/promises";
import postgres, { type Sql } from "postgres";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../src/db/migrate.js";
import { getStatsByModel, getStatsByUser, getSummaryStats, type StatsFilter } from "../../src/stats/index.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { launchChromium } from "./support/chromium.js";
import { startDashboardProcess, type DashboardProcess } from "./support/dashboard-process.js";
import { insertRows, usageHistory } from "./support/usage-history.js";

// Callbacks below run in the page, where these exist (this file is compiled without the DOM library).
declare const document: { body: { dataset: Record<string, string | undefined> }; cookie: string };
declare const window: Record<string, unknown>;

const XSS_USER = "<img src=x onerror=alert(1)>";
const XSS_ERROR = "<script>window.__pwned = 1</script> upstream said <b>no</b>";
const XSS_NODE = "<svg onload=alert(2)>";
const FORMULA_USER = '=HYPERLINK("http://evil.example","click")';
const FORMULA_NODE = "@SUM(1+1)";
const TOKEN = "page-test-token-0123456789abcdef";

let database: TestDatabase;
let db: Sql;
let dashboard: DashboardProcess;
let browser: Browser;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  // 35 days of calls every hour up to now, so any shift of a range's ends moves the totals.
  await insertRows(db, usageHistory({ now: new Date(), days: 35, callsPerHour: 3, seed: 11 }));
  await db`INSERT INTO llm_tracker_usage (id, user_id, model, provider, prompt_tokens, completion_tokens, total_tokens, success, error, metadata, created_at) VALUES
    (gen_random_uuid(), ${XSS_USER}, 'gpt-4o', 'openai', 120, 0, 120, false, ${XSS_ERROR}, ${db.json({ node_name: XSS_NODE })}, now() - interval '10 minutes'),
    (gen_random_uuid(), ${FORMULA_USER}, 'gpt-4o-mini', 'openai', 300, 30, 330, true, NULL, ${db.json({ node_name: FORMULA_NODE })}, now() - interval '20 minutes'),
    -- An eighth model, the smallest: the charts draw seven and sum the rest as "other models".
    (gen_random_uuid(), 'u-nano', 'gpt-4.1-nano', 'openai', 40, 8, 48, true, NULL, '{}', now() - interval '30 minutes'),
    (gen_random_uuid(), 'u-nano', 'gpt-4.1-nano', 'openai', 50, 9, 59, false, 'rate limited', '{}', now() - interval '3 days')`;
  [dashboard, browser] = await Promise.all([startDashboardProcess(["--port", "0"], { DATABASE_URL: database.url }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await db?.end();
  await database?.drop();
});

/** A page in its own context, in `timezoneId`, failing the test on any dialog, page error or CSP violation. */
async function openPage(timezoneId: string, hash = ""): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
  const context = await browser.newContext({ timezoneId, viewport: { width: 1500, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  page.on("request", (request) => {
    if (!request.url().startsWith(dashboard.url) && !request.url().startsWith("blob:")) problems.push(`outside request: ${request.url()}`);
  });
  await page.goto(`${dashboard.url}${hash}`);
  await ready(page);
  return { page, context, problems };
}

/** Waits until the page has drawn the view it was last asked for. */
async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state === "ready" || document.body.dataset.state === "error");
  expect(await page.getAttribute("body", "data-state"), (await page.textContent("#banner")) ?? "").toBe("ready");
}

/** Runs `action` (which starts a reload) and waits for the reload to finish. */
async function reloadWith(page: Page, action: () => Promise<unknown>): Promise<void> {
  await action();
  await ready(page);
}

interface ShownRange {
  from: string;
  to: string;
  tz: string;
  bucket: string;
}

const shownRange = (page: Page): Promise<ShownRange> =>
  page.$eval("#range-label", (label) => ({
    from: label.getAttribute("data-from")!,
    to: label.getAttribute("data-to")!,
    tz: label.getAttribute("data-tz")!,
    bucket: label.getAttribute("data-bucket")!,
  }));

/** The cards' exact values (data-value), by key. */
async function shownTotals(page: Page): Promise<Record<string, number>> {
  const pairs = await page.$$eval(".card", (cards) => cards.map((card) => [card.getAttribute("data-total"), card.querySelector(".value")!.getAttribute("data-value")]));
  return Object.fromEntries(pairs.map(([key, value]) => [key, Number(value)]));
}

async function expectedTotals(range: ShownRange, filter?: StatsFilter): Promise<Record<string, number>> {
  const summary = await getSummaryStats(range.from, range.to, { timeZone: range.tz, filter, db });
  return {
    total_calls: summary.total_calls,
    total_tokens: summary.total_tokens,
    total_cost_usd: summary.total_cost_usd,
    failure_rate: summary.total_calls > 0 ? summary.failed_calls / summary.total_calls : 0,
    unpriced_calls: summary.unpriced_calls,
    avg_latency_ms: summary.avg_latency_ms,
  };
}

interface Cell {
  value: string | null;
  text: string;
}

/** The body of a table: per row, each cell's data-value (null for null) and shown text. */
const tableCells = (page: Page, id: string): Promise<Cell[][]> =>
  page.$$eval(`#${id} tbody tr`, (rows) =>
    rows
      .filter((row) => !row.querySelector("td.empty"))
      .map((row) => [...row.querySelectorAll("td")].map((cell) => ({ value: cell.getAttribute("data-value"), text: cell.textContent ?? "" }))),
  );

/** The wall-clock date in `zone` at `instant`. */
function dateIn(zone: string, instant = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant);
}

function minusDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/** Minimal RFC 4180 reader (quotes, doubled quotes, CRLF), for checking the exports. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), (i += 1);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(cell), (cell = "");
    else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ""), (i += 1);
    } else cell += c;
  }
  return rows;
}

async function download(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  const text = await readFile((await file.path())!, "utf8");
  expect(text.startsWith("\uFEFF")).toBe(true);
  return { name: file.suggestedFilename(), text: text.slice(1) };
}

describe("the dashboard page", () => {
  it("opens on the last 24 hours in the browser's zone, with totals equal to getSummaryStats for that range", async () => {
    // Adelaide: a half-hour offset, so the local hour is not the UTC hour.
    const { page, context, problems } = await openPage("Australia/Adelaide");
    try {
      const range = await shownRange(page);
      expect(range.tz).toBe("Australia/Adelaide");
      expect(range.bucket).toBe("hour");
      expect(await page.getAttribute('#range-presets [data-range="24h"]', "aria-pressed")).toBe("true");
      // 24 whole hours ending with the current one: `to` is the next local hour boundary.
      const from = Date.parse(range.from);
      const to = Date.parse(range.to);
      expect(to - from).toBe(24 * 3_600_000);
      expect(new Intl.DateTimeFormat("en-US", { timeZone: "Australia/Adelaide", minute: "numeric", second: "numeric" }).format(to)).toMatch(/^0?0:00$/);
      expect(new Date(to).getUTCMinutes()).toBe(30);
      expect(to).toBeGreaterThan(Date.now() - 60_000);
      expect(to - Date.now()).toBeLessThanOrEqual(3_600_000);

      const expected = await expectedTotals(range);
      expect(expected.total_calls).toBeGreaterThan(20);
      expect(await shownTotals(page)).toEqual(expected);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("switching to 7 d, 30 d, another zone and a custom range changes the totals exactly as the library says", async () => {
    const { page, context, problems } = await openPage("Asia/Kolkata");
    try {
      await reloadWith(page, () => page.click('#range-presets [data-range="7d"]'));
      const week = await shownRange(page);
      expect([dateIn("Asia/Kolkata"), dateIn("Asia/Kolkata", new Date(Date.now() - 120_000))]).toContain(week.to);
      expect(week.from).toBe(minusDays(week.to, 6));
      const weekTotals = await shownTotals(page);
      expect(weekTotals).toEqual(await expectedTotals(week));
      // A week is charted hourly, and may be; a month daily only (MAX_HOURLY_DAYS).
      expect(week.bucket).toBe("hour");
      expect(await page.isDisabled('#bucket-picker [data-bucket="hour"]')).toBe(false);

      await reloadWith(page, () => page.selectOption("#time-zone", "America/Los_Angeles"));
      const weekLa = await shownRange(page);
      expect(weekLa.tz).toBe("America/Los_Angeles");
      expect(weekLa.from).toBe(minusDays(weekLa.to, 6));
      const weekLaTotals = await shownTotals(page);
      expect(weekLaTotals).toEqual(await expectedTotals(weekLa));
      // 13.5 hours apart, the two weeks hold different calls.
      expect(weekLaTotals.total_calls).not.toBe(weekTotals.total_calls);

      await reloadWith(page, () => page.click('#range-presets [data-range="30d"]'));
      const month = await shownRange(page);
      expect(month.bucket).toBe("day");
      expect(await page.isDisabled('#bucket-picker [data-bucket="hour"]')).toBe(true);
      expect(month.from).toBe(minusDays(month.to, 29));
      expect(await shownTotals(page)).toEqual(await expectedTotals(month));

      await page.click('#range-presets [data-range="custom"]');
      const first = minusDays(dateIn("America/Los_Angeles"), 20);
      const last = minusDays(dateIn("America/Los_Angeles"), 12);
      await page.fill('#custom-range input[name="from"]', first);
      await page.fill('#custom-range input[name="to"]', last);
      await reloadWith(page, () => page.click('#custom-range button[type="submit"]'));
      const custom = await shownRange(page);
      expect(custom).toMatchObject({ from: first, to: last, tz: "America/Los_Angeles", bucket: "day" });
      expect(await shownTotals(page)).toEqual(await expectedTotals(custom));
      expect(page.url()).toContain(`from=${first}`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("filters the whole page by a user clicked in the table, and by a node, until the filter is removed", async () => {
    const { page, context, problems } = await openPage("UTC", "#range=7d");
    try {
      const unfiltered = await shownTotals(page);
      await reloadWith(page, () => page.click('#table-user tbody button.cell-link:text-is("alice@acme.io")'));
      const range = await shownRange(page);
      expect(await page.textContent("#filter-chips")).toContain("alice@acme.io");
      expect(await shownTotals(page)).toEqual(await expectedTotals(range, { userId: "alice@acme.io" }));
      // Tables follow the filter: alice's calls per model.
      const byModel = await getStatsByModel(range.from, range.to, { timeZone: range.tz, filter: { userId: "alice@acme.io" }, db });
      const shownModels = (await tableCells(page, "table-model")).map((cells) => [cells[0]!.value, Number(cells[2]!.value)]);
      expect(shownModels).toEqual(byModel.map((row) => [row.model, row.total_tokens]));
      expect(await tableCells(page, "table-user")).toHaveLength(1);

      await reloadWith(page, () => page.click('#table-node tbody button.cell-link:text-is("summarize")'));
      expect(await shownTotals(page)).toEqual(await expectedTotals(range, { userId: "alice@acme.io", nodeName: "summarize" }));

      await reloadWith(page, () => page.click("#clear-filters"));
      expect(await shownTotals(page)).toEqual(unfiltered);
      expect(await page.isHidden("#filters")).toBe(true);

      await reloadWith(page, () => page.click('#table-user tbody button.cell-link:text-is("(no user)")'));
      expect(await shownTotals(page)).toEqual(await expectedTotals(range, { userId: null }));
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("exports CSV equal to the table on screen, in its sort order", async () => {
    const { page, context, problems } = await openPage("Europe/Berlin", "#range=30d");
    try {
      const range = await shownRange(page);
      const users = await getStatsByUser(range.from, range.to, { timeZone: range.tz, db });
      const csv = await download(page, '[data-export="user"]');
      expect(csv.name).toMatch(/^llm-tracker-by-user-.*\.csv$/);
      const [header, ...rows] = parseCsv(csv.text);
      expect(header).toEqual(["User", "Calls", "Tokens", "Cost (USD)", "Share of tokens (%)"]);
      const cells = await tableCells(page, "table-user");
      expect(rows).toEqual(cells.map((line) => line.map((cell) => neutralised(cell.value))));
      // …and the table is the library's answer.
      expect(cells.map((line) => [line[0]!.value, Number(line[1]!.value), Number(line[2]!.value), Number(line[3]!.value)])).toEqual(
        users.slice(0, 50).map((row) => [row.user_id, row.total_calls, row.total_tokens, row.total_cost_usd]),
      );

      // Sorted by calls, ascending: the CSV follows the screen.
      await page.click('#table-user th:has-text("Calls") button');
      await page.click('#table-user th:has-text("Calls") button');
      expect(await page.getAttribute('#table-user th:has-text("Calls")', "aria-sort")).toBe("ascending");
      const sorted = parseCsv((await download(page, '[data-export="user"]')).text).slice(1);
      const calls = sorted.map((row) => Number(row[1]));
      expect(calls).toEqual([...calls].sort((a, b) => a - b));
      expect(sorted).toEqual((await tableCells(page, "table-user")).map((line) => line.map((cell) => neutralised(cell.value))));

      // The series behind the charts: its buckets sum to the totals on the cards.
      const series = parseCsv((await download(page, '[data-export="over-time"]')).text);
      expect(series[0]).toEqual(["Bucket start", "Model", "Calls", "Succeeded", "Failed", "Prompt tokens", "Completion tokens", "Tokens", "Cost (USD)"]);
      const totals = await shownTotals(page);
      const sum = (column: number) => series.slice(1).reduce((total, row) => total + Number(row[column]), 0);
      expect(sum(2)).toBe(totals.total_calls);
      expect(sum(7)).toBe(totals.total_tokens);
      expect(sum(8)).toBeCloseTo(totals.total_cost_usd!, 4);
      // Seven models by name, the eighth in the summed rest.
      const models = new Set(series.slice(1).map((row) => row[1]));
      expect(models.has("(other models)")).toBe(true);
      expect(models.has("gpt-4.1-nano")).toBe(false);
      expect(models.size).toBe(8);
      expect(new Set(series.slice(1).map((row) => row[0]!.slice(0, 10))).size).toBeLessThanOrEqual(30);
      expect(series.slice(1).every((row) => /^\d{4}-\d{2}-\d{2}T00:00:00\+0[12]:00$/.test(row[0]!))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows outsiders' user ids, node names and error texts as text, runs none of them, and neutralises formulas in CSV", async () => {
    const { page, context, problems } = await openPage("UTC");
    try {
      const userTexts = await page.$$eval("#table-user tbody td:first-child", (cells) => cells.map((cell) => cell.textContent));
      expect(userTexts).toContain(XSS_USER);
      expect(userTexts).toContain(FORMULA_USER);
      const nodeTexts = await page.$$eval("#table-node tbody td:first-child", (cells) => cells.map((cell) => cell.textContent));
      expect(nodeTexts).toContain(XSS_NODE);
      const failure = await page.$$eval("#table-failures tbody tr", (rows) =>
        rows.map((row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent)),
      );
      expect(failure.some((cells) => cells.includes(XSS_USER) && cells.includes(XSS_ERROR) && cells.includes(XSS_NODE))).toBe(true);
      // Nothing was parsed into elements or run.
      expect(await page.$$eval("main img, main svg, main b, main script", (elements) => elements.length)).toBe(0);
      expect(await page.$$eval("script", (scripts) => scripts.map((s) => s.getAttribute("src")))).toEqual(["/assets/chart.umd.min.js", "/assets/dashboard.js"]);
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();

      // A filter on the hostile user shows it as text in the chip, too.
      await reloadWith(page, () => page.click(`#table-user tbody button.cell-link:text-is("${XSS_USER}")`));
      expect(await page.textContent("#filter-chips .chip-value")).toBe(XSS_USER);
      expect(await shownTotals(page)).toMatchObject({ total_calls: 1, failure_rate: 1 });
      await reloadWith(page, () => page.click("#clear-filters"));

      const users = parseCsv((await download(page, '[data-export="user"]')).text);
      expect(users.map((row) => row[0])).toContain(`'${FORMULA_USER}`);
      expect(users.map((row) => row[0])).toContain(XSS_USER);
      const nodes = parseCsv((await download(page, '[data-export="node"]')).text);
      expect(nodes.map((row) => row[0])).toContain(`'${FORMULA_NODE}`);
      const failures = parseCsv((await download(page, '[data-export="failures"]')).text);
      expect(failures.some((row) => row.includes(XSS_ERROR))).toBe(true);
      for (const row of [...users, ...nodes, ...failures]) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("the page behind a token", () => {
  let guarded: DashboardProcess;

  beforeAll(async () => {
    guarded = await startDashboardProcess(["--port", "0"], { DATABASE_URL: database.url, LLM_TRACKER_DASHBOARD_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await guarded?.stop();
  });

  it("answers 401 without the token; a ?token= visit sets an HttpOnly cookie, drops the token from the URL and shows the data", async () => {
    const context = await browser.newContext({ timezoneId: "UTC" });
    try {
      const page = await context.newPage();
      const denied = await page.goto(guarded.url);
      expect(denied!.status()).toBe(401);
      expect(await page.textContent("body")).toBe("unauthorized\n");

      const wrong = await page.goto(`${guarded.url}?token=not-it`);
      expect(wrong!.status()).toBe(401);
      expect(await context.cookies()).toEqual([]);

      await page.goto(`${guarded.url}?token=${TOKEN}#range=7d`);
      expect(page.url()).toBe(`${guarded.url}#range=7d`);
      await ready(page);
      const range = await shownRange(page);
      expect(await shownTotals(page)).toEqual(await expectedTotals(range));
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: "llm_tracker_dashboard", httpOnly: true, sameSite: "Strict" });
      expect(cookie!.value).not.toContain(TOKEN);
      expect(await page.evaluate(() => document.cookie)).toBe("");

      // A reload needs no token: the cookie carries it.
      await page.reload();
      await ready(page);
    } finally {
      await context.close();
    }
  });
});

/** What the CSV holds for a cell value: the text, with a formula's first character neutralised. */
function neutralised(value: string | null): string {
  if (value === null) return "";
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
