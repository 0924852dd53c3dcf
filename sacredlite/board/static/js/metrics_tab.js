// A run's metrics tab: plot panels (opening on the metric the user last picked, else the
// most-logged non-system metric), the last/min/max table, and the grid of all metrics.
// While the run runs, all of it refreshes.
import { api } from "./api.js";
import { h, clear, fill, fmtValue, toast } from "./dom.js";
import { MetricPlot } from "./plot.js";
import { metricGrid } from "./metric_grid.js";
import { baselineSources } from "./baseline.js";

const PICK_KEY = "sacredlite.board.metric";
const X_KEY = "sacredlite.board.x";
const LIVE_MS = 2000;

export function defaultMetric(names, rollups) {
  const last = localStorage.getItem(PICK_KEY);
  if (last && names.includes(last)) return last;
  const user = names.filter((n) => !n.startsWith("system/"));
  const pool = user.length ? user : names;
  return pool.reduce((best, n) => ((rollups[n]?.count || 0) > (rollups[best]?.count || 0) ? n : best), pool[0]);
}

function rollupTable(r) {
  return h("table", { class: "kv" },
    h("tr", {}, h("th", {}, "metric"), h("th", {}, "last"), h("th", {}, "min"), h("th", {}, "max"), h("th", {}, "points")),
    Object.entries(r).map(([m, v]) => h("tr", { dataset: { metric: m } }, h("td", {}, m), h("td", {}, fmtValue(v.last)), h("td", {}, fmtValue(v.min)), h("td", {}, fmtValue(v.max)), h("td", {}, v.count))));
}

export function metricsTab(d, cleanup) {
  if (!d.metrics.length) return h("p", { class: "muted" }, "This run logged no metrics.");
  const runId = d.run._id;
  const wrap = h("div", { class: "metrics-tab" });
  const plots = h("div", { class: "plots" });
  const rollups = h("div", { class: "rollups" });
  const live = [];  // everything a live run refreshes
  let xKind = localStorage.getItem(X_KEY) || "step";
  const xMetrics = d.metrics;

  const addPanel = (names) => {
    const panel = h("div", { class: "panel" });
    let plot = null;
    const chosen = new Set(names);
    const area = h("div", { class: "plot-area" });
    const draw = async () => {
      if (plot) plot.destroy();
      plot = null;
      clear(area);
      if (!chosen.size) return;
      const metrics = [...chosen];
      const extra = (await Promise.all(metrics.map((m) => baselineSources(m, [runId])))).flat();
      plot = new MetricPlot([...metrics.map((m) => ({ runId, metric: m, label: m })), ...extra],
        { title: metrics.join(", "), x: xKind, xMetrics, onX: (v) => { xKind = v; localStorage.setItem(X_KEY, v); } });
      area.append(plot.el);
      plot.load().catch((err) => toast(err.message, true));
    };
    const picks = d.metrics.map((m) => h("label", { class: "chip" }, h("input", { type: "checkbox", class: "metric-pick", value: m, checked: chosen.has(m),
      onchange: (e) => { if (e.target.checked) { chosen.add(m); localStorage.setItem(PICK_KEY, m); } else chosen.delete(m); draw(); } }), m));
    panel.append(h("div", { class: "picks" }, picks, h("button", { type: "button", class: "x", title: "remove plot", onclick: () => { if (plot) plot.destroy(); plot = null; panel.remove(); } }, "×")), area);
    plots.append(panel);
    draw();
    live.push(() => plot && plot.load());
    cleanup.push(() => plot && plot.destroy());
  };

  const loadRollups = () => api.rollups(runId).then((r) => { fill(rollups, rollupTable(r)); return r; });
  const gridBox = h("div", { class: "grid-box" });
  wrap.append(h("button", { type: "button", class: "add-plot", onclick: () => addPanel([]) }, "+ Add plot"), plots, rollups,
    h("h3", {}, "All metrics"), gridBox);
  loadRollups().then((r) => {
    addPanel([defaultMetric(d.metrics, r)]);
    const grid = metricGrid(runId, d.metrics, d.metric_sections, xKind);
    gridBox.append(grid.el);
    cleanup.push(grid.dispose);
    live.push(() => Promise.all(grid.plots.filter((p) => p.plot).map((p) => p.load())));
  }).catch((err) => toast(err.message, true));
  if (d.status === "RUNNING") {
    live.push(loadRollups);
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") live.forEach((f) => Promise.resolve(f()).catch(() => {}));
    }, LIVE_MS);
    cleanup.push(() => clearInterval(timer));
  }
  return wrap;
}
