// Group curves: each group's mean with a min/max or ±std band (computed on the server),
// its members drawn thin on demand, any x (step, times, another metric); zoom asks the
// server for the window again.
import { api } from "./api.js";
import { h, clear, fill, toast } from "./dom.js";
import { color, fade } from "./colors.js";
import { align, xOf } from "./plot.js";
import { xAxis, xSelect } from "./axes.js";
import { baselineSources } from "./baseline.js";

const POINTS = 1000;
const MEMBERS_PER_GROUP = 20;

export class GroupPlot {
  constructor(params, metrics, metric) {
    this.params = params;  // the filters and `by`
    this.metric = metric;
    this.band = "minmax";
    this.x = "step";
    this.members = false;
    this.range = null;
    this.plot = null;
    this.holder = h("div", { class: "plot-holder" });
    this.info = h("span", { class: "muted plot-info" });
    const pick = h("select", { class: "group-metric", onchange: (e) => { this.metric = e.target.value; this.range = null; this.load(); } },
      metrics.map((m) => h("option", { value: m, selected: m === metric }, m)));
    const band = h("select", { class: "band-kind", onchange: (e) => { this.band = e.target.value; this.load(); } },
      h("option", { value: "minmax" }, "min/max band"), h("option", { value: "std" }, "±std band"));
    const members = h("input", { type: "checkbox", class: "show-members", onchange: (e) => { this.members = e.target.checked; this.load(); } });
    const xs = xSelect("step", metrics, (v) => { this.x = v; this.range = null; this.load(); });
    this.el = h("div", { class: "plot-panel group-plot", dataset: { metric } },
      h("div", { class: "plot-controls" }, h("strong", {}, "Group curves"), " ", pick, " ", band, " ",
        h("label", {}, members, " members"), " ", h("label", {}, "x ", xs), " ",
        h("button", { type: "button", class: "reset-zoom", onclick: () => { this.range = null; this.load(); } }, "Reset zoom"), " ", this.info),
      this.holder);
    this.holder.addEventListener("dblclick", () => { this.range = null; this.load(); });
  }

  async load() {
    const token = (this.token = {});
    const q = { ...this.params, name: this.metric, x: this.x, band: this.band, points: POINTS };
    if (this.range) { q.start = this.range[0]; q.stop = this.range[1]; }
    let data;
    try { data = await api.groupMetric(q); } catch (err) { if (token === this.token) fill(this.holder, h("p", { class: "error" }, err.message)); return; }
    const groups = data.groups || [];
    let memberParts = [];
    if (this.members) {
      const mq = { points: 400, ...(this.x !== "step" ? { x: this.x } : {}), ...(this.range ? { start: this.range[0], stop: this.range[1] } : {}) };
      memberParts = await Promise.all(groups.map((g, gi) => Promise.all(g.ids.slice(0, MEMBERS_PER_GROUP).map((id) =>
        api.metric(id, this.metric, mq).then((p) => ({ gi, id, p })).catch(() => null)))));
      memberParts = memberParts.flat().filter(Boolean);
    }
    const base = await baselineSources(this.metric, []);
    const baseParts = await Promise.all(base.map((b) => api.metric(b.runId, b.metric, this.x !== "step" ? { x: this.x, points: POINTS } : { points: POINTS }).catch(() => null)));
    if (token !== this.token) return;
    this.el.dataset.groups = String(groups.length);
    this.el.dataset.metric = this.metric;
    this.info.textContent = `${groups.length} groups, ${groups.reduce((a, g) => a + g.count, 0)} runs`;
    this.draw(groups, memberParts, base.filter((b, i) => baseParts[i]).map((b, i) => ({ ...b, p: baseParts.filter(Boolean)[i] })));
  }

  draw(groups, members, base) {
    const parts = [];
    const series = [];
    const bands = [];
    groups.forEach((g, i) => {
      const c = color(i);
      const at = parts.length + 1;
      parts.push({ x: g.x, values: g.mean }, { x: g.x, values: g.lo }, { x: g.x, values: g.hi });
      series.push({ label: `${g.label} (n=${g.count})`, stroke: c, width: 2, spanGaps: true, points: { show: false } },
        { label: `${g.label} lo`, stroke: fade(c, 0.3), width: 0.5, spanGaps: true, points: { show: false }, quiet: true },
        { label: `${g.label} hi`, stroke: fade(c, 0.3), width: 0.5, spanGaps: true, points: { show: false }, quiet: true });
      bands.push({ series: [at + 2, at + 1], fill: fade(c, 0.15) });
    });
    for (const m of members) {
      parts.push({ x: xOf(m.p), values: m.p.values });
      series.push({ label: `run ${m.id}`, stroke: fade(color(m.gi), 0.45), width: 0.7, spanGaps: true, points: { show: false }, quiet: true });
    }
    for (const b of base) {
      parts.push({ x: xOf(b.p), values: b.p.values });
      series.push({ label: b.label, stroke: b.color, width: 2.5, dash: [6, 4], spanGaps: true, points: { show: false } });
    }
    this.el.dataset.series = String(series.length);
    if (this.plot) this.plot.destroy();
    clear(this.holder);
    const self = this;
    const x = xAxis(this.x, this.el);
    this.plot = new uPlot({
      width: Math.max(300, this.holder.clientWidth || 800), height: 320,
      scales: { x: x.scale }, axes: [x.axis, {}], bands,
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [{ label: x.axis.label }, ...series],
      hooks: { setSelect: [(u) => {
        if (u.select.width < 5) return;
        const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ width: 0, height: 0 }, false);
        self.range = [lo, hi];
        self.load();
      }] },
    }, align(parts), this.holder);
    // Only the means and the baseline in the legend: bands and members would crowd it.
    this.holder.querySelectorAll(".u-legend .u-series").forEach((row, i) => { if (i > 0 && series[i - 1].quiet) row.style.display = "none"; });
  }

  destroy() {
    this.token = null;
    if (this.plot) this.plot.destroy();
  }
}

export function groupPlotPanel(params, metrics) {
  const m = metrics.find((x) => !x.startsWith("system/")) || metrics[0];
  if (!m) return { el: h("p", { class: "muted" }, "No metrics to draw."), destroy() {} };
  const plot = new GroupPlot(params, metrics, m);
  plot.load().catch((err) => toast(err.message, true));
  return plot;
}
