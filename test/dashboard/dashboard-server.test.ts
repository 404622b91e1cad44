// The dashboard's HTTP surface without a browser: the token flow (401 that says
// nothing, Bearer header, the ?token= visit's cookie and redirect), loopback-only
// without a token (DNS rebinding refused), the security headers, 400s naming
// the parameter, read-only methods, and a Postgres outage as a 503 without secrets.
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboardServer, UnprotectedDashboardError, type DashboardServer } from "../../src/dashboard/dashboard-server.js";
import { createConnection } from "../../src/db/connection.js";
import { runMigrations } from "../../src/db/migrate.js";
import { getRecentFailures, getStatsByNode, getStatsByUser, getStatsOverTime, getSummaryStats } from "../../src/stats/index.js";
import { freePort } from "../support/free-port.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";

const TOKEN = "correct-horse-battery-staple-4f9c2a";

let database: TestDatabase;
let db: Sql;
let guarded: DashboardServer;
let open: DashboardServer;

beforeAll(async () => {
  database = await createTestDatabase();
  await runMigrations(database.url);
  db = postgres(database.url, { onnotice: () => {} });
  await db`INSERT INTO llm_tracker_usage (id, user_id, model, prompt_tokens, completion_tokens, total_tokens, success, metadata, created_at)
    SELECT gen_random_uuid(), 'u' || (i % 3), 'gpt-4o', 10, 5, 15, i % 4 <> 0, '{"node_name": "n"}', '2026-03-10T00:00:00Z'::timestamptz + i * interval '7 minutes'
    FROM generate_series(1, 40) AS i`;
  [guarded, open] = await Promise.all([startDashboardServer({ port: 0, token: TOKEN, db }), startDashboardServer({ port: 0, db })]);
});

afterAll(async () => {
  await Promise.all([guarded?.close(), open?.close()]);
  await db?.end();
  await database?.drop();
});

const get = (server: DashboardServer, path: string, headers: Record<string, string> = {}) =>
  fetch(new URL(path, server.url), { headers, redirect: "manual" });

/** A GET with any Host header (fetch does not let one set it), resolving to the status and body. */
function getWithHost(server: DashboardServer, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port: server.port, path, headers: { ...headers, Host: host } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

describe("with a token", () => {
  it("answers 401 to every path without it, saying nothing about the page, the API or the token", async () => {
    for (const path of ["/", "/api/summary", "/assets/dashboard.js", "/assets/chart.umd.min.js", "/no-such-path"]) {
      const response = await get(guarded, path);
      expect(response.status, path).toBe(401);
      expect(await response.text(), path).toBe("unauthorized\n");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="llm-tracker dashboard"');
      expect(response.headers.get("set-cookie")).toBeNull();
    }
  });

  it("answers the same 401 to a wrong header, a wrong cookie and a wrong ?token=", async () => {
    const answers = await Promise.all([
      get(guarded, "/api/summary", { Authorization: "Bearer wrong" }),
      get(guarded, "/api/summary", { Authorization: `Bearer ${TOKEN}x` }),
      get(guarded, "/api/summary", { Authorization: TOKEN }),
      get(guarded, "/api/summary", { Cookie: `llm_tracker_dashboard=${TOKEN}` }),
      get(guarded, "/api/summary", { Cookie: "llm_tracker_dashboard=forged" }),
      get(guarded, "/?token=wrong"),
      get(guarded, `/?token=${TOKEN}&token=${TOKEN}`),
    ]);
    for (const response of answers) {
      expect(response.status).toBe(401);
      expect(await response.text()).toBe("unauthorized\n");
      expect(response.headers.get("set-cookie")).toBeNull();
    }
  });

  it("serves the API to `Authorization: Bearer <token>`", async () => {
    const response = await get(guarded, "/api/summary?from=2026-03-10&to=2026-03-10", { Authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(await getSummaryStats("2026-03-10", "2026-03-10", { db }));
  });

  it("turns a ?token= visit into an HttpOnly SameSite=Strict cookie and a redirect to the URL without the token", async () => {
    const visit = await get(guarded, `/?token=${encodeURIComponent(TOKEN)}&keep=1`);
    expect(visit.status).toBe(303);
    expect(visit.headers.get("location")).toBe("/?keep=1");
    const cookie = visit.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^llm_tracker_dashboard=[A-Za-z0-9_-]+; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain("Secure"); // plain HTTP here
    expect(cookie).not.toContain(TOKEN); // the cookie holds a derived value, not the token

    const pair = cookie.split(";")[0]!;
    const page = await get(guarded, "/?keep=1", { Cookie: `other=1; ${pair}` });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>llm-tracker");
    const api = await get(guarded, "/api/by-user?from=2026-03-10&to=2026-03-10", { Cookie: pair });
    expect(await api.json()).toEqual(await getStatsByUser("2026-03-10", "2026-03-10", { db }));
  });

  it("marks the cookie Secure behind a TLS-terminating proxy", async () => {
    const visit = await get(guarded, `/?token=${TOKEN}`, { "X-Forwarded-Proto": "https" });
    expect(visit.status).toBe(303);
    expect(visit.headers.get("location")).toBe("/");
    expect(visit.headers.get("set-cookie")).toContain("; Secure");
  });

  it("accepts any Host header (the token protects it)", async () => {
    const response = await getWithHost(guarded, "/api/summary", "dashboard.example.com", { Authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
  });
});

describe("without a token", () => {
  it("refuses to listen on a non-loopback address", async () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
      await expect(startDashboardServer({ host, port: 0, db }), host).rejects.toBeInstanceOf(UnprotectedDashboardError);
    }
    await expect(startDashboardServer({ host: "0.0.0.0", port: 0, db })).rejects.toThrow(/LLM_TRACKER_DASHBOARD_TOKEN/);
  });

  it("listens on loopback by default", async () => {
    const port = await freePort();
    const server = await startDashboardServer({ port, db });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${port}/`);
      expect((await fetch(server.url)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("serves only requests addressed to a loopback name, so a DNS-rebound page cannot read it", async () => {
    for (const host of ["localhost", `localhost:${open.port}`, `127.0.0.1:${open.port}`, `[::1]:${open.port}`]) {
      expect((await getWithHost(open, "/api/summary", host)).status, host).toBe(200);
    }
    for (const host of ["evil.example", `evil.example:${open.port}`, "127.0.0.1.evil.example", "localhost.evil.example"]) {
      const response = await getWithHost(open, "/api/summary", host);
      expect(response.status, host).toBe(403);
      expect(response.body).not.toContain("total_calls");
    }
  });
});

describe("every answer", () => {
  it("carries a Content-Security-Policy without inline script, and no framing or referrer", async () => {
    for (const path of ["/", "/api/summary", "/nothing-here"]) {
      const response = await get(open, path);
      const csp = response.headers.get("content-security-policy")!;
      expect(csp, path).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("the page has no inline script, no inline style and no event-handler attribute, and loads nothing from elsewhere", () => {
    const html = readFileSync(new URL("../../src/dashboard/page/index.html", import.meta.url), "utf8");
    for (const script of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(script[1]).toMatch(/\bsrc="\/assets\/[^"]+"/);
      expect(script[2]!.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it("serves Chart.js from the installed package, revalidated by ETag", async () => {
    const response = await get(open, "/assets/chart.umd.min.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const body = await response.text();
    expect(body).toContain("Chart.js v4.");
    const again = await get(open, "/assets/chart.umd.min.js", { "If-None-Match": response.headers.get("etag")! });
    expect(again.status).toBe(304);
  });

  it("allows only GET and HEAD", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await fetch(new URL("/api/summary", open.url), { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
    }
    const head = await fetch(new URL("/", open.url), { method: "HEAD" });
    expect(head.status).toBe(200);
  });
});

describe("bad query parameters", () => {
  const cases: [string, string][] = [
    ["/api/summary?from=yesterday", "from"],
    ["/api/summary?to=2026-02-30", "to"],
    ["/api/summary?tz=Mars/Olympus_Mons", "tz"],
    ["/api/summary?tz=%2B08:00", "tz"],
    ["/api/summary?from=2026-03-01&from=2026-03-02", "from"],
    ["/api/summary?color=red", "color"],
    ["/api/summary?limit=5", "limit"],
    ["/api/by-user?limit=0", "limit"],
    ["/api/by-user?limit=ten", "limit"],
    ["/api/by-user?limit=1000000", "limit"],
    ["/api/by-node?user=a&user_null=1", "user_null"],
    ["/api/by-node?node_null=yes", "node_null"],
    ["/api/summary?user=<1001 characters>", "user"],
  ];
  it.each(cases)("%s → 400 naming %s", async (shown, parameter) => {
    const path = shown.replace("<1001 characters>", "x".repeat(1001));
    const response = await get(open, path);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; parameter: string; message: string };
    expect(body.error).toBe("bad_parameter");
    expect(body.parameter).toBe(parameter);
    expect(body.message.startsWith(`${parameter}: `)).toBe(true);
  });
});

describe("filters", () => {
  it("pass user, user_null, node and model to the stats as options.filter", async () => {
    const range = "from=2026-03-10&to=2026-03-10";
    const summary = async (query: string) => (await get(open, `/api/summary?${range}&${query}`)).json();
    expect(await summary("user=u1")).toEqual(await getSummaryStats("2026-03-10", "2026-03-10", { db, filter: { userId: "u1" } }));
    expect(await summary("node=n&model=gpt-4o")).toEqual(await getSummaryStats("2026-03-10", "2026-03-10", { db, filter: { nodeName: "n", model: "gpt-4o" } }));
    expect(await summary("user_null=1")).toMatchObject({ total_calls: 0 });
    expect(await summary("user=nobody")).toMatchObject({ total_calls: 0 });
  });
});

describe("the API routes", () => {
  it("answer exactly what the stats functions return for the same arguments", async () => {
    const json = async (path: string) => (await get(open, path)).json();
    const zone = { timeZone: "Asia/Shanghai", db };
    expect(await json("/api/over-time?from=2026-03-10&to=2026-03-10&tz=Asia/Shanghai&bucket=hour&group_by=user&limit=2")).toEqual(
      await getStatsOverTime("2026-03-10", "2026-03-10", { ...zone, bucket: "hour", groupBy: "user", limit: 2 }),
    );
    expect(await json("/api/over-time?from=2026-03-09&to=2026-03-11&bucket=day&user=u2")).toEqual(
      await getStatsOverTime("2026-03-09", "2026-03-11", { db, bucket: "day", filter: { userId: "u2" } }),
    );
    expect(await json("/api/failures?from=2026-03-10&tz=Asia/Shanghai&limit=3")).toEqual(await getRecentFailures(3, { ...zone, startDate: "2026-03-10" }));
    expect(await json("/api/failures?user=u1")).toEqual(await getRecentFailures(20, { db, filter: { userId: "u1" } }));
    expect(await json("/api/by-node?limit=1")).toEqual(await getStatsByNode(undefined, undefined, { db, limit: 1 }));
  });

  it("name the parameter when the over-time range or bucket is wrong", async () => {
    const parameterOf = async (path: string) => ((await (await get(open, path)).json()) as { parameter: string }).parameter;
    expect(await parameterOf("/api/over-time?from=2026-03-10&to=2026-03-11")).toBe("bucket");
    expect(await parameterOf("/api/over-time?to=2026-03-11&bucket=day")).toBe("from");
    expect(await parameterOf("/api/over-time?from=2020-01-01&to=2026-03-11&bucket=hour")).toBe("bucket");
    expect(await parameterOf("/api/over-time?from=2026-03-10&to=2026-03-11&bucket=day&group_by=team")).toBe("group_by");
    expect(await parameterOf("/api/failures?limit=1001")).toBe("limit");
  });
});

describe("a read-only database role", () => {
  it("is enough: with SELECT on the two tables (as docs/dashboard.md grants it), every route answers", async () => {
    const role = `llmt_dash_ro_${database.name.slice(-12)}`;
    await db.unsafe(`CREATE ROLE ${role} LOGIN`);
    try {
      // The grant docs/dashboard.md documents, word for word.
      await db.unsafe(`GRANT CONNECT ON DATABASE "${database.name}" TO ${role}`);
      await db.unsafe(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await db.unsafe(`GRANT SELECT ON llm_tracker_usage, llm_tracker_usage_rollup TO ${role}`);
      await db.unsafe(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
      const url = new URL(database.url);
      url.username = role;
      const readOnly = postgres(url.toString(), { onnotice: () => {} });
      const server = await startDashboardServer({ port: 0, db: readOnly });
      try {
        const range = "from=2026-03-09&to=2026-03-11&tz=Asia/Shanghai";
        for (const route of ["summary", "by-model", "by-user", "by-node", "failures", "over-time"]) {
          const extra = route === "over-time" ? "&bucket=hour&group_by=model" : "&user=u1";
          const response = await get(server, `/api/${route}?${range}${extra}`);
          expect(response.status, `${route}: ${await response.clone().text()}`).toBe(200);
        }
        // …and it can change nothing.
        await expect(readOnly`DELETE FROM llm_tracker_usage`).rejects.toThrow();
      } finally {
        await server.close();
        await readOnly.end();
      }
    } finally {
      await db.unsafe(`DROP OWNED BY ${role}`);
      await db.unsafe(`DROP ROLE ${role}`);
    }
  });
});

describe("when Postgres is unreachable", () => {
  it("answers the API with a 503 that carries no connection details, and still serves the page", async () => {
    const port = await freePort();
    const down = createConnection(`postgres://postgres:s3cret-pw@127.0.0.1:${port}/nowhere`, { connectTimeoutSeconds: 2 });
    const logged: string[] = [];
    const server = await startDashboardServer({ port: 0, db: down, logger: { error: (fields: object) => void logged.push(JSON.stringify(fields)) } as never });
    try {
      const response = await get(server, "/api/summary");
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: "stats_unavailable" });
      expect(text).not.toContain("s3cret");
      expect(text).not.toContain(String(port));
      expect(logged.join("\n")).not.toContain("s3cret");
      expect(logged.length).toBeGreaterThan(0);
      expect((await get(server, "/")).status).toBe(200);
    } finally {
      await server.close();
      await down.close();
    }
  });
});
