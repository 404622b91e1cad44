// The charts over time (Chart.js, drawn on canvas: labels are painted as text,
// never parsed as HTML): tokens and cost per bucket stacked by model, the
// largest models each in a colour and the rest as "other", and calls split
// into succeeded and failed.
import { formatBucket, formatCompact, formatInteger, formatUsd, formatUsdAxis } from "./format.js";

/** Models drawn in their own colour; the rest are summed as "other". */
const TOP_MODELS = 7;
const PALETTE = ["#4f7cff", "#19b394", "#f5a524", "#9b6bff", "#ef5da8", "#22b8cf", "#8fb339"];
const OTHER_COLOUR = "#a3acb9";
/** The key of the summed rest: no model name starts with a NUL. */
const OTHER = "\u0000other";
const OK_COLOUR = "#7fb8a4";
const FAILED_COLOUR = "#e5484d";

/** Each bucket's start, in order, per series (a model, or the other models summed) its figures per bucket, and calls per bucket. */
export function seriesByModel(entries) {
  const starts = [];
  const index = new Map();
  const totals = new Map();
  for (const entry of entries) {
    if (!index.has(entry.bucket_start)) {
      index.set(entry.bucket_start, starts.length);
      starts.push(entry.bucket_start);
    }
    const total = totals.get(entry.model) ?? { calls: 0, tokens: 0 };
    total.calls += entry.total_calls;
    total.tokens += entry.total_tokens;
    totals.set(entry.model, total);
  }
  // The stats list a bucket's models by their tokens over the range; models without calls are left out.
  const ranked = [...totals.entries()].filter(([, total]) => total.calls > 0).sort((a, b) => b[1].tokens - a[1].tokens).map(([model]) => model);
  const shown = ranked.slice(0, TOP_MODELS);
  const names = ranked.length > TOP_MODELS ? [...shown, OTHER] : shown;
  const series = new Map(names.map((name) => [name, { tokens: new Array(starts.length).fill(0), cost: new Array(starts.length).fill(0) }]));
  const calls = { ok: new Array(starts.length).fill(0), failed: new Array(starts.length).fill(0) };
  for (const entry of entries) {
    const i = index.get(entry.bucket_start);
    calls.ok[i] += entry.successful_calls;
    calls.failed[i] += entry.failed_calls;
    const target = series.get(shown.includes(entry.model) ? entry.model : OTHER);
    if (!target) continue;
    target.tokens[i] += entry.total_tokens;
    target.cost[i] += entry.total_cost_usd;
  }
  return { starts, series, calls };
}

export class OverTimeCharts {
  /** @param {{ tokens: HTMLCanvasElement, cost: HTMLCanvasElement, calls: HTMLCanvasElement }} canvases */
  constructor(canvases) {
    const Chart = window.Chart;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 11;
    Chart.defaults.color = "#5b6472";
    Chart.defaults.borderColor = "#e8ebf0";
    this.tokens = new Chart(canvases.tokens, stackedBar((value) => formatCompact(value), (value) => formatInteger(value), true));
    this.cost = new Chart(canvases.cost, stackedBar((value) => formatUsdAxis(value), (value) => formatUsd(value), true));
    this.calls = new Chart(canvases.calls, stackedBar((value) => formatCompact(value), (value) => formatInteger(value), false));
  }

  /** Draws `entries` (getStatsOverTime grouped by model) with axis labels for `bucket`. */
  update(entries, bucket) {
    const { starts, series, calls } = seriesByModel(entries);
    const labels = starts.map((start) => formatBucket(start, bucket));
    const names = [...series.keys()];
    const colour = (name, i) => (name === OTHER ? OTHER_COLOUR : PALETTE[i % PALETTE.length]);
    const datasets = (field) =>
      names.map((name, i) => ({ label: name === OTHER ? "other models" : name, data: series.get(name)[field], backgroundColor: colour(name, i), stack: "models", borderWidth: 0 }));
    setData(this.tokens, labels, datasets("tokens"));
    setData(this.cost, labels, datasets("cost"));
    setData(this.calls, labels, [
      { label: "succeeded", data: calls.ok, backgroundColor: OK_COLOUR, stack: "calls", borderWidth: 0 },
      { label: "failed", data: calls.failed, backgroundColor: FAILED_COLOUR, stack: "calls", borderWidth: 0 },
    ]);
  }

  clear() {
    for (const chart of [this.tokens, this.cost, this.calls]) setData(chart, [], []);
  }
}

function setData(chart, labels, datasets) {
  chart.data.labels = labels;
  chart.data.datasets = datasets;
  chart.update("none");
}

function stackedBar(axisFormat, tooltipFormat, legend) {
  return {
    type: "bar",
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      datasets: { bar: { categoryPercentage: 0.9, barPercentage: 0.9, maxBarThickness: 28 } },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0, autoSkipPadding: 12 } },
        y: { stacked: true, beginAtZero: true, ticks: { callback: axisFormat, maxTicksLimit: 6 } },
      },
      plugins: {
        legend: { display: legend, position: "bottom", labels: { boxWidth: 10, boxHeight: 10, padding: 10 } },
        tooltip: {
          filter: (item) => item.raw !== 0,
          itemSort: (a, b) => b.raw - a.raw,
          callbacks: {
            title: (items) => [].concat(items[0]?.label ?? "").join(" "),
            label: (item) => `${item.dataset.label}: ${tooltipFormat(item.raw)}`,
          },
        },
      },
    },
  };
}
