// The usage page: reads the view from the URL fragment, asks the API for the
// range, zone and filters it names, and draws totals, charts and tables.
// Everything from the API is set as text (textContent, title, data-*), never as HTML.
import { ApiError, getJson } from "./api-client.js";
import { OverTimeCharts } from "./charts.js";
import { entriesFromColumns } from "./over-time-columns.js";
import { OTHER, OTHER_LABEL, TOP_MODELS, withOtherModels } from "./over-time-series.js";
import { downloadCsv, toCsv } from "./csv.js";
import { DataTable } from "./data-table.js";
import { formatCompact, formatInteger, formatMs, formatPercent, formatUsd } from "./format.js";
import { bucketFor, describeRange, localToday, addDays, MAX_HOURLY_DAYS, rangeFor, REFRESH_MS } from "./time-range.js";
import { browserZone, filterParams, readViewState, writeViewState } from "./view-state.js";

// The top 50 of each table: the top-N search for users reads 4 × N keys per
// covering bucket (docs/stats.md); at 10M rows and 100,000 users, 100 rows cost
// 42–76 ms a call, 50 rows 17–38 ms.
const TABLE_ROWS = 50;
const FAILURE_ROWS = 50;
const NULL_LABEL = { user: "(no user)", node: "(no node)", model: "(none)" };

const $ = (selector) => document.querySelector(selector);

let view = readViewState(location.hash);
let generation = 0;
let inFlight = null;
/** The last answers, for the CSV of the over-time series. */
let lastOverTime = [];
let lastRange = null;

// ---------- tables ----------

const onFilter = (kind, value) => setView({ ...view, filters: { ...view.filters, [kind]: value } });

const totalsColumns = [
  { key: "total_calls", label: "Calls", kind: "int" },
  { key: "total_tokens", label: "Tokens", kind: "int" },
  { key: "total_cost_usd", label: "Cost", csvLabel: "Cost (USD)", kind: "usd" },
  { key: "share", label: "Share", csvLabel: "Share of tokens (%)", kind: "share" },
];
const byTokens = { key: "total_tokens", descending: true };

const tables = {
  model: new DataTable($("#table-model table"), [{ key: "model", label: "Model", kind: "name", filter: "model" }, ...totalsColumns], {
    emptyText: "No calls in this range",
    onFilter,
    sort: byTokens,
  }),
  user: new DataTable($("#table-user table"), [{ key: "user_id", label: "User", kind: "name", filter: "user", nullLabel: NULL_LABEL.user }, ...totalsColumns], {
    emptyText: "No calls in this range",
    onFilter,
    sort: byTokens,
  }),
  node: new DataTable($("#table-node table"), [{ key: "node_name", label: "Node", kind: "name", filter: "node", nullLabel: NULL_LABEL.node }, ...totalsColumns], {
    emptyText: "No calls in this range",
    onFilter,
    sort: byTokens,
  }),
  failures: new DataTable(
    $("#table-failures table"),
    [
      { key: "created_at", label: "Time", kind: "time" },
      { key: "model", label: "Model", kind: "name", filter: "model" },
      { key: "user_id", label: "User", kind: "name", filter: "user", nullLabel: NULL_LABEL.user },
      { key: "node_name", label: "Node", kind: "name", filter: "node", nullLabel: NULL_LABEL.node },
      { key: "provider", label: "Provider", kind: "name", nullLabel: "–" },
      { key: "error", label: "Error", kind: "text", nullLabel: "(no message)" },
    ],
    { emptyText: "No failed calls in this range", onFilter, sort: { key: "created_at", descending: true } },
  ),
};

const charts = new OverTimeCharts({ tokens: $("#chart-tokens"), cost: $("#chart-cost"), calls: $("#chart-calls") });

// ---------- controls ----------

function setView(next) {
  view = next;
  const hash = writeViewState(view);
  if (location.hash !== hash) history.pushState(null, "", hash);
  load();
}

function fillZones() {
  const select = $("#time-zone");
  const zones = new Set(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);
  zones.add("UTC");
  zones.add(browserZone());
  zones.add(view.tz);
  const now = new Date();
  const offsetOf = (zone) => {
    try {
      const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(now).find((p) => p.type === "timeZoneName");
      return part?.value === "GMT" ? "UTC" : (part?.value.replace("GMT", "UTC") ?? "");
    } catch {
      return "";
    }
  };
  const options = [...zones].sort().map((zone) => {
    const option = document.createElement("option");
    option.value = zone;
    option.textContent = `${zone.replaceAll("_", " ")}  (${offsetOf(zone)})${zone === browserZone() ? " · this browser" : ""}`;
    return option;
  });
  select.replaceChildren(...options);
  select.addEventListener("change", () => setView({ ...view, tz: select.value }));
}

function wireControls() {
  for (const button of document.querySelectorAll("#range-presets button")) {
    button.addEventListener("click", () => {
      const range = button.dataset.range;
      if (range === "custom") {
        openCustomForm();
        return;
      }
      $("#custom-range").hidden = true;
      setView({ ...view, range, bucket: null });
    });
  }
  $("#custom-range").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const from = form.elements.from.value;
    const to = form.elements.to.value;
    if (!from || !to) return;
    const [first, last] = from <= to ? [from, to] : [to, from];
    setView({ ...view, range: "custom", custom: { from: first, to: last }, bucket: null });
  });
  for (const button of document.querySelectorAll("#bucket-picker button")) {
    button.addEventListener("click", () => setView({ ...view, bucket: button.dataset.bucket }));
  }
  $("#refresh").addEventListener("click", () => load());
  $("#clear-filters").addEventListener("click", () => setView({ ...view, filters: {} }));
  for (const button of document.querySelectorAll(".csv-button")) {
    button.addEventListener("click", () => exportCsv(button.dataset.export));
  }
  window.addEventListener("popstate", () => {
    view = readViewState(location.hash);
    load();
  });
  setInterval(() => {
    if ($("#auto-refresh").checked && document.visibilityState === "visible" && view.range !== "custom") load();
  }, REFRESH_MS);
}

function openCustomForm() {
  const form = $("#custom-range");
  const current = lastRange ?? rangeFor(view.range, view.tz, view.custom);
  const today = localToday(view.tz);
  form.elements.from.value = view.custom?.from ?? (current.from.length === 10 ? current.from : addDays(today, -1));
  form.elements.to.value = view.custom?.to ?? today;
  form.hidden = false;
  markPreset("custom");
  form.elements.from.focus();
}

function markPreset(range) {
  for (const button of document.querySelectorAll("#range-presets button")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === range));
  }
}

function renderControls(range, bucket) {
  markPreset(view.range);
  $("#custom-range").hidden = view.range !== "custom";
  if (view.range === "custom" && view.custom) {
    $("#custom-range").elements.from.value = view.custom.from;
    $("#custom-range").elements.to.value = view.custom.to;
  }
  $("#time-zone").value = view.tz;
  for (const button of document.querySelectorAll("#bucket-picker button")) {
    button.setAttribute("aria-pressed", String(button.dataset.bucket === bucket));
    button.disabled = button.dataset.bucket === "hour" && range.days > MAX_HOURLY_DAYS;
    if (button.disabled) button.title = `Hourly covers at most ${MAX_HOURLY_DAYS} days`;
  }
  const label = $("#range-label");
  label.textContent = `${describeRange(range, view.tz)} · ${view.tz}`;
  // The exact request, for anyone (or any test) comparing the page with the library.
  label.dataset.from = range.from;
  label.dataset.to = range.to;
  label.dataset.tz = view.tz;
  label.dataset.bucket = bucket;

  const entries = Object.entries(view.filters);
  $("#filters").hidden = entries.length === 0;
  $("#filter-chips").replaceChildren(
    ...entries.map(([kind, value]) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.dataset.kind = kind;
      const name = document.createElement("span");
      name.className = "chip-kind";
      name.textContent = kind;
      const text = document.createElement("span");
      text.className = value === null ? "chip-value null" : "chip-value";
      text.textContent = value === null ? NULL_LABEL[kind] : value;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.title = `Remove the ${kind} filter`;
      remove.setAttribute("aria-label", `Remove the ${kind} filter`);
      remove.addEventListener("click", () => {
        const filters = { ...view.filters };
        delete filters[kind];
        setView({ ...view, filters });
      });
      chip.append(name, text, remove);
      return chip;
    }),
  );
}

// ---------- loading ----------

async function load() {
  const mine = ++generation;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const range = rangeFor(view.range, view.tz, view.custom);
  const bucket = bucketFor(range, view.bucket);
  lastRange = range;
  renderControls(range, bucket);
  document.body.dataset.state = "loading";
  $("#status").textContent = "Updating…";

  const common = { from: range.from, to: range.to, tz: view.tz, ...filterParams(view.filters) };
  const requests = {
    summary: getJson("/api/summary", common, controller.signal),
    // The top models' series and the totals per bucket: the rest of the models is their difference.
    // As columns (each field named once per series, not once per entry: a sixth of the bytes for a week by hour),
    // turned back into the same entries here.
    overTime: getJson("/api/over-time", { ...common, bucket, group_by: "model", limit: TOP_MODELS, format: "columns" }, controller.signal).then(entriesFromColumns),
    overTimeTotals: getJson("/api/over-time", { ...common, bucket, format: "columns" }, controller.signal).then(entriesFromColumns),
    model: getJson("/api/by-model", { ...common, limit: TABLE_ROWS }, controller.signal),
    user: getJson("/api/by-user", { ...common, limit: TABLE_ROWS }, controller.signal),
    node: getJson("/api/by-node", { ...common, limit: TABLE_ROWS }, controller.signal),
    failures: getJson("/api/failures", { ...common, limit: FAILURE_ROWS }, controller.signal),
  };
  const names = Object.keys(requests);
  // Budgets do not follow the range: read beside the stats, shown only when some are configured and readable.
  // Rendered when they arrive, never holding up the rest (a Redis that does not answer takes seconds to say so).
  void getJson("/api/budgets", {}, controller.signal)
    .catch(() => null)
    .then((budgets) => {
      if (mine === generation) renderBudgets(budgets);
    });
  const settled = await Promise.allSettled(Object.values(requests));
  if (mine !== generation) return; // a newer view replaced this one
  const results = Object.fromEntries(names.map((name, i) => [name, settled[i]]));
  const errors = settled.filter((result) => result.status === "rejected").map((result) => result.reason);

  const summary = results.summary.status === "fulfilled" ? results.summary.value : null;
  renderTotals(summary);
  const shareOf = summary?.total_tokens ?? 0;
  for (const name of ["model", "user", "node"]) {
    tables[name].setRows(results[name].status === "fulfilled" ? results[name].value : [], shareOf);
    markTopRows(name, results[name]);
  }
  tables.failures.setRows(results.failures.status === "fulfilled" ? results.failures.value : []);
  if (results.overTime.status === "fulfilled" && results.overTimeTotals.status === "fulfilled") {
    lastOverTime = withOtherModels(results.overTime.value, results.overTimeTotals.value);
    charts.update(lastOverTime, bucket);
  } else {
    lastOverTime = [];
    charts.clear();
  }

  renderErrors(errors);
  document.body.dataset.state = errors.length > 0 ? "error" : "ready";
  const time = new Intl.DateTimeFormat(undefined, { timeZone: view.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(new Date());
  $("#status").textContent = errors.length > 0 ? `Failed at ${time}` : `Updated ${time}`;
}

/** One line per budget: scope and key, spent of limit, a bar (red at 100 %, amber from 80 %). */
function renderBudgets(statuses) {
  const section = $("#budgets");
  const list = section.querySelector(".budget-list");
  list.replaceChildren();
  if (!Array.isArray(statuses) || statuses.length === 0) {
    section.hidden = true;
    return;
  }
  for (const status of statuses.slice(0, 50)) {
    const item = document.createElement("li");
    const ratio = status.limit_usd > 0 ? status.spent_usd / status.limit_usd : 1;
    item.dataset.level = ratio >= 1 ? "over" : ratio >= 0.8 ? "near" : "ok";
    const name = document.createElement("span");
    name.className = "budget-name";
    name.textContent = status.scope === "global" ? "Global" : `${status.scope === "user" ? "User" : "Node"} ${status.key ?? "(each)"}`;
    const period = document.createElement("span");
    period.className = "budget-period";
    period.textContent = `${status.period === "day" ? "daily" : "monthly"} · ${status.time_zone}`;
    const figures = document.createElement("span");
    figures.className = "budget-figures";
    figures.textContent = `${formatUsd(status.spent_usd)} of ${formatUsd(status.limit_usd)}`;
    const bar = document.createElement("span");
    bar.className = "budget-bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.min(100, Math.max(0, ratio * 100)).toFixed(1)}%`;
    bar.append(fill);
    item.append(name, period, bar, figures);
    list.append(item);
  }
  section.hidden = false;
}

function markTopRows(name, result) {
  const head = document.querySelector(`#table-${name} h2`);
  const count = result.status === "fulfilled" ? result.value.length : 0;
  head.dataset.note = count >= TABLE_ROWS ? `top ${TABLE_ROWS} by tokens` : "";
}

function renderTotals(summary) {
  const set = (key, value, text, detail) => {
    const card = document.querySelector(`.card[data-total="${key}"]`);
    const element = card.querySelector(".value");
    element.textContent = text;
    if (value === null) delete element.dataset.value;
    else element.dataset.value = String(value);
    card.querySelector(".detail").textContent = detail;
  };
  if (!summary) {
    for (const card of document.querySelectorAll(".card")) set(card.dataset.total, null, "–", "");
    return;
  }
  const calls = summary.total_calls;
  set("total_calls", calls, formatInteger(calls), `${formatInteger(summary.successful_calls)} succeeded`);
  set(
    "total_tokens",
    summary.total_tokens,
    formatInteger(summary.total_tokens),
    `${formatCompact(summary.total_prompt_tokens)} prompt · ${formatCompact(summary.total_completion_tokens)} completion`,
  );
  set("total_cost_usd", summary.total_cost_usd, formatUsd(summary.total_cost_usd), summary.unpriced_calls > 0 ? "priced calls only" : "all calls priced");
  const rate = calls > 0 ? summary.failed_calls / calls : 0;
  set("failure_rate", rate, calls > 0 ? formatPercent(rate) : "–", `${formatInteger(summary.failed_calls)} failed`);
  document.querySelector('.card[data-total="failure_rate"]').classList.toggle("alert", rate >= 0.05);
  set("unpriced_calls", summary.unpriced_calls, formatInteger(summary.unpriced_calls), summary.unpriced_calls > 0 ? "model without a price" : "every call has a price");
  const latency = summary.avg_latency_ms ?? 0;
  const ttft = summary.avg_time_to_first_token_ms ?? 0;
  set("avg_latency_ms", latency, latency > 0 ? formatMs(latency) : "–", ttft > 0 ? `first token ${formatMs(ttft)} (streams)` : "per call, end to end");
}

function renderErrors(errors) {
  const banner = $("#banner");
  const real = errors.filter((error) => error?.name !== "AbortError");
  if (real.length === 0) {
    banner.hidden = true;
    banner.textContent = "";
    return;
  }
  const error = real[0];
  let text;
  if (error instanceof ApiError && error.status === 401) {
    text = "This dashboard needs its token: open the link with ?token=… once in this browser (it sets a cookie), or ask whoever runs it.";
  } else if (error instanceof ApiError && error.status === 400) {
    text = `The server refused the request: ${error.body?.message ?? "bad parameter"}`;
  } else if (error instanceof ApiError) {
    text = `The stats could not be read (${error.status}): ${error.body?.message ?? "server error"}. Retrying every minute.`;
  } else {
    text = "The dashboard server is not answering.";
  }
  banner.textContent = text;
  banner.hidden = false;
}

// ---------- CSV ----------

function exportCsv(name) {
  const range = lastRange;
  const suffix = range ? `${range.from.slice(0, 13)}_${range.to.slice(0, 13)}`.replaceAll(":", "") : "export";
  const filename = `llm-tracker-${name === "over-time" ? "over-time" : name === "failures" ? "failures" : `by-${name}`}-${suffix}.csv`;
  if (name === "over-time") {
    const header = ["Bucket start", "Model", "Calls", "Succeeded", "Failed", "Prompt tokens", "Completion tokens", "Tokens", "Cost (USD)"];
    const rows = lastOverTime
      .filter((entry) => entry.total_calls > 0)
      .map((entry) => [
        entry.bucket_start,
        entry.model === OTHER ? OTHER_LABEL : entry.model,
        entry.total_calls,
        entry.successful_calls,
        entry.failed_calls,
        entry.total_prompt_tokens,
        entry.total_completion_tokens,
        entry.total_tokens,
        entry.total_cost_usd,
      ]);
    downloadCsv(filename, toCsv(header, rows));
    return;
  }
  downloadCsv(filename, tables[name].toCsv());
}

// ---------- start ----------

fillZones();
wireControls();
load();
