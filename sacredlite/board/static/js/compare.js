// Compare runs: overlaid metrics (legend: run id + chosen config keys), config diff,
// captured-output diff and source diff.
import { api } from "./api.js";
import { h, clear, fill, fmtValue, statusBadge, toast } from "./dom.js";
import { MetricPlot } from "./plot.js";
import { color } from "./colors.js";
import { baselineSources } from "./baseline.js";
import { defaultMetric } from "./metrics_tab.js";

function diffView(text) {
  return h("pre", { class: "diff" }, text.split("\n").map((line) => h("span", {
    class: line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "",
  }, line + "\n")));
}

export function compareView(root, meta, ids) {
  const cleanup = [];
  let disposed = false;
  cleanup.push(() => { disposed = true; });
  (async () => {
    let d;
    try { d = await api.compare(ids); } catch (err) { fill(root, h("p", { class: "error" }, err.message)); return; }
    if (disposed) return;  // the user navigated away while this loaded
    const runs = d.runs;
    const metrics = [...new Set(runs.flatMap((r) => r.metrics))].sort();
    const legendKeys = new Set(d.differs.slice(0, 2));
    const plots = [];
    const plotArea = h("div", { class: "plot-area" });
    const first = runs.find((r) => r.metrics.length);
    const counts = first ? await api.rollups(first.id).catch(() => ({})) : {};
    if (disposed) return;
    const chosen = new Set(metrics.length ? [defaultMetric(metrics, counts)] : []);
    let xKind = "step";
    const draw = async () => {
      plots.splice(0).forEach((p) => p.destroy());
      clear(plotArea);
      for (const m of metrics.filter((x) => chosen.has(x))) {
        const sources = runs.filter((r) => r.metrics.includes(m)).map((r) => ({
          runId: r.id, metric: m, color: color(runs.indexOf(r)),
          label: `run ${r.id}` + [...legendKeys].map((k) => ` ${k}=${fmtValue(r.config[k])}`).join(""),
        }));
        sources.push(...await baselineSources(m, runs.map((r) => r.id)));
        if (disposed) return;
        const plot = new MetricPlot(sources, { title: m, x: xKind, xMetrics: metrics, onX: (v) => { xKind = v; } });
        plots.push(plot);
        plotArea.append(plot.el);
        plot.load().catch((err) => toast(err.message, true));
      }
    };
    cleanup.push(() => plots.forEach((p) => p.destroy()));
    if (runs.some((r) => r.status === "RUNNING")) {
      // Live runs: their curves grow (the x range follows unless zoomed).
      const timer = setInterval(() => { if (document.visibilityState === "visible") plots.forEach((p) => p.load().catch(() => {})); }, 2000);
      cleanup.push(() => clearInterval(timer));
    }
    const metricPicks = metrics.map((m) => h("label", { class: "chip" }, h("input", { type: "checkbox", class: "compare-metric-pick", value: m, checked: chosen.has(m),
      onchange: (e) => { e.target.checked ? chosen.add(m) : chosen.delete(m); draw(); } }), m));
    const legendPicks = d.keys.map((k) => h("label", { class: "chip" }, h("input", { type: "checkbox", checked: legendKeys.has(k),
      onchange: (e) => { e.target.checked ? legendKeys.add(k) : legendKeys.delete(k); draw(); } }), k));

    let onlyDiff = d.differs.length > 0;
    const cfgTable = h("table", { class: "compare-config" });
    const renderCfg = () => {
      const keys = onlyDiff ? d.differs : d.keys;
      fill(cfgTable, 
        h("tr", {}, h("th", { class: "sticky" }, "config"), runs.map((r) => h("th", {}, h("a", { href: `#/run/${encodeURIComponent(r.id)}` }, `#${r.id}`), " ", statusBadge(r.status)))),
        keys.map((k) => h("tr", { class: d.differs.includes(k) ? "differs" : "" }, h("td", { class: "key sticky" }, k), runs.map((r) => h("td", {}, fmtValue(r.config[k]))))),
        h("tr", {}, h("td", { class: "key sticky" }, "result"), runs.map((r) => h("td", {}, fmtValue(r.result)))));
    };
    const diffArea = h("div", {});
    const a = h("select", {}, runs.map((r, i) => h("option", { value: r.id, selected: i === 0 }, `#${r.id}`)));
    const b = h("select", {}, runs.map((r, i) => h("option", { value: r.id, selected: i === 1 }, `#${r.id}`)));
    const sources = [...new Set(runs.flatMap((r) => r.sources))].sort();
    const what = h("select", {}, h("option", { value: "output" }, "captured output"), sources.map((s) => h("option", { value: `source:${s}` }, `source ${s}`)));
    const showDiff = async () => {
      const kind = what.value;
      try {
        const res = kind === "output" ? await api.diff([a.value, b.value], "output") : await api.diff([a.value, b.value], "source", kind.slice(7));
        fill(diffArea, res.diff ? diffView(res.diff) : h("p", { class: "muted" }, "No differences."));
      } catch (err) { fill(diffArea, h("p", { class: "error" }, err.message)); }
    };
    fill(root, h("section", { class: "compare-view" },
      h("h2", {}, `Compare runs ${runs.map((r) => "#" + r.id).join(", ")}`),
      h("h3", {}, "Metrics"),
      metrics.length ? h("div", {}, h("div", { class: "picks compare-metrics" }, "metrics: ", metricPicks), h("div", { class: "picks" }, "legend: ", legendPicks), plotArea) : h("p", { class: "muted" }, "No metrics."),
      h("h3", {}, "Config"),
      h("label", {}, h("input", { type: "checkbox", checked: onlyDiff, onchange: (e) => { onlyDiff = e.target.checked; renderCfg(); } }), " only differences"),
      h("div", { class: "scroll-box" }, cfgTable),
      h("h3", {}, "Diff"),
      h("div", { class: "row" }, what, " ", a, " → ", b, " ", h("button", { type: "button", onclick: showDiff }, "Show diff")),
      diffArea));
    renderCfg();
    if (metrics.length) draw();
    if (runs.length >= 2) showDiff();
  })();
  return () => cleanup.forEach((f) => f());
}
