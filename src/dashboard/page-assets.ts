// The page's files, read once at start-up into memory: the HTML at `/`, the
// page's scripts and styles under `/assets/`, and Chart.js's browser build from
// the installed `chart.js` package. Only these paths exist; nothing on disk is
// looked up by a name taken from a URL.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PageAsset {
  body: Buffer;
  contentType: string;
  /** Strong validator for If-None-Match. */
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The folder beside this module holding the page (copied next to the compiled module by the build). */
const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));

/** Chart.js's self-contained browser build (UMD, defines `window.Chart`); its package exports only the module entries. */
function chartJsFile(): string {
  const entry = createRequire(import.meta.url).resolve("chart.js");
  return join(dirname(entry), "chart.umd.min.js");
}

/** URL path → asset. Throws when a file is missing (a broken install), so the server does not start half-working. */
export async function loadPageAssets(): Promise<Map<string, PageAsset>> {
  const assets = new Map<string, PageAsset>();
  for (const name of await readdir(PAGE_DIR)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) continue;
    assets.set(name === "index.html" ? "/" : `/assets/${name}`, asset(await readFile(join(PAGE_DIR, name)), contentType));
  }
  if (!assets.has("/")) throw new Error(`the dashboard page is missing from ${PAGE_DIR}`);
  assets.set("/assets/chart.umd.min.js", asset(await readFile(chartJsFile()), CONTENT_TYPES[".js"]!));
  return assets;
}

function asset(body: Buffer, contentType: string): PageAsset {
  return { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
}
