// The charts over time (Chart.js, drawn on canvas: labels are painted as text,
// never parsed as HTML): tokens and cost per bucket stacked by model, the
// largest models each in a colour and the rest as "other", and calls split
// into succeeded and failed.
import { axisLabels, formatBucket, formatCompact, formatInteger, formatUsd, formatUsdAxis } from "./format.js";
import { OTHER, OTHER_LABEL } from "./over-time-series.js";

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#e15759", "#ff9da7", "#9c755f", "#3b5ba5", "#2ca58d", "#d37295"];
const OTHER_COLOUR = "#a3acb9";
const OK_COLOUR = "#7fb8a4";
const FAILED_COLOUR = "#e5484d";

/**
 * Each bucket's start, in order; per series (a top model, in the API's order,
 * then OTHER when present) its tokens and cost per bucket; calls per bucket.
 * `entries` as withOtherModels gives them.
 */
export function seriesByModel(entries) {
  const starts = [];
  const index = new Map();
  const listed = new Set();
  const called = new Set();
  for (const entry of entries) {
    if (!index.has(entry.bucket_start)) {
      index.set(entry.bucket_start, starts.length);
      starts.push(entry.bucket_start);
    }
    listed.add(entry.model);
    if (entry.total_calls > 0) called.add(entry.model);
  }
  // Every bucket lists the top models in the API's order (by tokens over the range); one without calls is left out.
  const names = [...listed].filter((name) => name !== OTHER && called.has(name));
  if (called.has(OTHER)) names.push(OTHER);
  const series = new Map(names.map((name) => [name, { tokens: new Array(starts.length).fill(0), cost: new Array(starts.length).fill(0) }]));
  const calls = { ok: new Array(starts.length).fill(0), failed: new Array(starts.length).fill(0) };
  for (const entry of entries) {
    const i = index.get(entry.bucket_start);
    calls.ok[i] += entry.successful_calls;
    calls.failed[i] += entry.failed_calls;
    const target = series.get(entry.model);
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
    /** The axis label of each bucket ("" = no tick), shared by the three charts. */
    this.ticks = [];
    const tick = (index) => this.ticks[index] ?? "";
    this.tokens = new Chart(canvases.tokens, stackedBar(formatCompact, formatInteger, tick));
    this.cost = new Chart(canvases.cost, stackedBar(formatUsdAxis, formatUsd, tick));
    this.calls = new Chart(canvases.calls, stackedBar(formatCompact, formatInteger, tick));
  }

  /** Draws `entries` (withOtherModels' series) with axis labels for `bucket`. */
  update(entries, bucket) {
    const { starts, series, calls } = seriesByModel(entries);
    const labels = starts.map((start) => formatBucket(start, bucket));
    this.ticks = axisLabels(starts, bucket);
    const names = [...series.keys()];
    const colours = modelColours(names);
    const datasets = (field) =>
      names.map((name) => ({ label: name === OTHER ? OTHER_LABEL : name, data: series.get(name)[field], backgroundColor: colours.get(name), stack: "models", borderWidth: 0 }));
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

/**
 * A colour per model that stays the same from one view to the next (from a
 * hash of its name), moved to the next free colour when two models collide.
 */
function modelColours(names) {
  const taken = new Set();
  const colours = new Map();
  for (const name of names) {
    if (name === OTHER) {
      colours.set(name, OTHER_COLOUR);
      continue;
    }
    let hash = 0;
    for (const char of name) hash = (Math.imul(hash, 31) + char.codePointAt(0)) >>> 0;
    let index = hash % PALETTE.length;
    for (let tries = 0; taken.has(index) && tries < PALETTE.length; tries += 1) index = (index + 1) % PALETTE.length;
    taken.add(index);
    colours.set(name, PALETTE[index]);
  }
  return colours;
}

function setData(chart, labels, datasets) {
  chart.data.labels = labels;
  chart.data.datasets = datasets;
  chart.update("none");
}

function stackedBar(axisFormat, tooltipFormat, tick) {
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
        x: { stacked: true, grid: { display: false }, ticks: { autoSkip: false, maxRotation: 0, callback: (_value, index) => tick(index) } },
        y: { stacked: true, beginAtZero: true, ticks: { callback: axisFormat, maxTicksLimit: 6 } },
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, padding: 10 } },
        tooltip: {
          filter: (item) => item.raw !== 0,
          itemSort: (a, b) => b.raw - a.raw,
          callbacks: {
            title: (items) => items[0]?.label ?? "",
            label: (item) => `${item.dataset.label}: ${tooltipFormat(item.raw)}`,
          },
        },
      },
    },
  };
}
