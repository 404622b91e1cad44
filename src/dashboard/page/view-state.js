// What the page shows — range, zone, bucket, filters — kept in the URL's
// fragment (#range=7d&tz=Asia%2FShanghai&user=u1), so a view can be bookmarked
// and shared, and never sent to the server in a request line or a referrer.

const PRESETS = ["24h", "7d", "30d", "custom"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filter kinds and their API parameters (`user_null=1`: the calls without a user). */
export const FILTER_KINDS = ["user", "node", "model"];

/** The browser's own zone (the default), or UTC when it has none. */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The view described by `hash`; anything missing or malformed falls back to the defaults. */
export function readViewState(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const range = PRESETS.includes(params.get("range")) ? params.get("range") : "24h";
  const from = params.get("from");
  const to = params.get("to");
  const custom = DATE.test(from ?? "") && DATE.test(to ?? "") && from <= to ? { from, to } : null;
  const bucket = ["hour", "day"].includes(params.get("bucket")) ? params.get("bucket") : null;
  const filters = {};
  for (const kind of FILTER_KINDS) {
    if (params.has(kind)) filters[kind] = params.get(kind);
    else if (kind !== "model" && params.get(`${kind}_null`) === "1") filters[kind] = null;
  }
  return { range: range === "custom" && !custom ? "24h" : range, custom, tz: knownZone(params.get("tz")) ?? browserZone(), bucket, filters };
}

/** `zone` when this browser knows it (a bookmark may carry any text), else undefined. */
function knownZone(zone) {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

/** The fragment for `view` (the zone left out when it is the browser's). */
export function writeViewState(view) {
  const params = new URLSearchParams();
  params.set("range", view.range);
  if (view.range === "custom" && view.custom) {
    params.set("from", view.custom.from);
    params.set("to", view.custom.to);
  }
  if (view.tz !== browserZone()) params.set("tz", view.tz);
  if (view.bucket) params.set("bucket", view.bucket);
  for (const [kind, value] of Object.entries(view.filters)) {
    if (value === null) params.set(`${kind}_null`, "1");
    else params.set(kind, value);
  }
  return `#${params}`;
}

/** The API's filter parameters for `filters`. */
export function filterParams(filters) {
  const params = {};
  for (const [kind, value] of Object.entries(filters)) {
    if (value === null) params[`${kind}_null`] = "1";
    else params[kind] = value;
  }
  return params;
}
