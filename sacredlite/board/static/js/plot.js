// Metric plots with uPlot: several series per plot, EMA smoothing, log y, a choice of x
// (step, wall/relative time, another metric), and zoom that asks the server for the
// visible window again (re-bucketed), while "Reset zoom" or a double-click go back to all.
// A live run's plot follows new points unless the user zoomed.
import { api } from "./api.js";
import { h, clear } from "./dom.js";
import { color } from "./colors.js";
import { xAxis, xSelect } from "./axes.js";

const POINTS = 2000;

export function ema(values, alpha) {
  if (!alpha) return values;
  const out = new Array(values.length);
  let acc = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) { out[i] = acc; continue; }
    acc = acc === null ? v : alpha * acc + (1 - alpha) * v;
    out[i] = acc;
  }
  return out;
}

// Join series with different x onto one x axis (uPlot wants aligned data).
export function align(parts) {
  const xs = new Set();
  for (const p of parts) for (const s of p.x) xs.add(s);
  const x = Array.from(xs).sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const ys = parts.map((p) => {
    const y = new Array(x.length).fill(null);
    p.x.forEach((s, i) => { y[index.get(s)] = p.values[i]; });
    return y;
  });
  return [x, ...ys];
}

// The x values of a metric response (the server sends them as `steps`, or `x` for another x).
export const xOf = (p) => p.x || p.steps;

// A plot panel. `sources` is a list of {runId, metric, label, color?, baseline?}.
export class MetricPlot {
  constructor(sources, { title = "", x = "step", xMetrics = [], onX = null, height = 300, compact = false } = {}) {
    this.sources = sources;
    this.title = title;
    this.xKind = x;
    this.height = height;
    this.smoothing = 0;
    this.logY = false;
    this.raw = [];
    this.range = null;
    this.plot = null;
    this.el = h("div", { class: "plot-panel" + (compact ? " compact" : ""), dataset: { metric: [...new Set(sources.map((s) => s.metric))].join(",") } });
    this.holder = h("div", { class: "plot-holder" });
    this.info = h("span", { class: "muted plot-info" });
    const slider = h("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: 0, class: "ema", title: "EMA smoothing",
      oninput: (e) => { this.smoothing = Number(e.target.value); sval.textContent = this.smoothing.toFixed(2); this.redraw(true); } });
    const sval = h("span", { class: "muted" }, "0.00");
    const log = h("input", { type: "checkbox", class: "logy", onchange: (e) => { this.logY = e.target.checked; this.rebuild(); } });
    const reset = h("button", { type: "button", class: "reset-zoom", onclick: () => this.resetZoom() }, "Reset zoom");
    const xs = xSelect(x, xMetrics, (v) => { this.xKind = v; this.range = null; if (onX) onX(v); this.rebuildOnLoad = true; this.load(); });
    this.el.append(
      h("div", { class: "plot-controls" },
        h("strong", {}, title), " ",
        compact ? null : h("label", {}, "smoothing ", slider, " ", sval), " ",
        compact ? null : h("label", {}, log, " log y"), " ",
        compact ? null : h("label", {}, "x ", xs), " ", reset, " ", this.info),
      this.holder);
    this.holder.addEventListener("dblclick", () => this.resetZoom());
    this.resizeObserver = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resizeObserver.observe(this.holder);
  }

  size() {
    return { width: Math.max(220, this.holder.clientWidth || 800), height: this.height };
  }

  resetZoom() {
    this.range = null;
    return this.load();
  }

  params() {
    const params = { points: POINTS };
    if (this.xKind !== "step") params.x = this.xKind;
    if (this.range) { params.start = this.range[0]; params.stop = this.range[1]; }
    return params;
  }

  async load() {
    const params = this.params();
    const token = (this.token = {});
    const parts = await Promise.all(this.sources.map((s) => api.metric(s.runId, s.metric, params)));
    if (token !== this.token) return;  // a newer request superseded this one
    this.raw = parts;
    const total = parts.reduce((a, p) => a + p.total, 0);
    const shown = parts.reduce((a, p) => a + xOf(p).length, 0);
    this.info.textContent = shown < total ? `${shown} of ${total} points (zoom for detail)` : `${total} points`;
    this.el.dataset.points = String(shown);
    if (!this.plot || this.rebuildOnLoad) { this.rebuildOnLoad = false; this.rebuild(); } else this.redraw(!!this.range);
  }

  data() {
    const smoothed = this.raw.map((p) => ({ x: xOf(p), values: ema(p.values, this.smoothing) }));
    const data = align(smoothed);
    if (this.logY) for (let i = 1; i < data.length; i++) data[i] = data[i].map((v) => (v !== null && v > 0 ? v : null));
    return data;
  }

  // New data; the x range follows the data unless the user zoomed (keepScale).
  redraw(keepScale = false) {
    if (!this.plot) return;
    this.plot.setData(this.data(), !keepScale);
    if (keepScale && this.range) this.plot.setScale("x", { min: this.range[0], max: this.range[1] });
  }

  seriesOpts() {
    return this.sources.map((s, i) => ({
      label: s.label, stroke: s.color || color(i), width: s.baseline ? 2.5 : 1.5, dash: s.baseline ? [6, 4] : undefined,
      spanGaps: true, points: { show: false },
    }));
  }

  rebuild() {
    if (this.plot) { this.plot.destroy(); this.plot = null; }
    clear(this.holder);
    const self = this;
    const x = xAxis(this.xKind, this.el);
    const opts = {
      ...this.size(),
      scales: { x: x.scale, y: this.logY ? { distr: 3 } : {} },
      axes: [x.axis, {}],
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      series: [{ label: x.axis.label }, ...this.seriesOpts()],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 5) return;
          const min = u.posToVal(u.select.left, "x");
          const max = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ width: 0, height: 0 }, false);
          self.range = self.xKind === "step" ? [Math.floor(min), Math.ceil(max)] : [min, max];
          self.load();
        }],
        setScale: [(u, key) => {
          if (key !== "x") return;
          self.el.dataset.xmin = String(u.scales.x.min);
          self.el.dataset.xmax = String(u.scales.x.max);
        }],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.holder);
    if (this.range) this.plot.setScale("x", { min: this.range[0], max: this.range[1] });
  }

  destroy() {
    this.token = null;
    this.resizeObserver.disconnect();
    if (this.plot) this.plot.destroy();
  }
}
