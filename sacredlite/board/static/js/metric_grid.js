// All metrics of a run as a grid of small plots, sectioned by their first `/` or `.`
// prefix; the `system/` metrics (CPU, memory, GPU) get a section of their own, last.
import { h } from "./dom.js";
import { MetricPlot } from "./plot.js";

export function sections(names, given) {
  if (given && typeof given === "object" && Object.keys(given).length) return given;
  const out = {};
  for (const n of names) {
    const m = /^([^/.]+)[/.]/.exec(n);
    const key = m ? m[1] : "";
    (out[key] = out[key] || []).push(n);
  }
  return out;
}

function order(keys) {
  return keys.sort((a, b) => (a === "system") - (b === "system") || (a !== "") - (b !== "") || a.localeCompare(b));
}

// `live` plots reload on the caller's timer through the returned `plots` list.
export function metricGrid(runId, names, given, x) {
  const plots = [];
  const secs = sections(names, given);
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      observer.unobserve(e.target);
      const plot = e.target.plot;
      e.target.append(plot.el);
      plot.load().catch(() => {});
    }
  });
  const el = h("div", { class: "metric-grid" }, order(Object.keys(secs)).map((key) => h("section", { class: "grid-section", dataset: { section: key || "(none)" } },
    h("h4", {}, key === "system" ? "System (CPU, memory, GPU)" : key || "Metrics"),
    h("div", { class: "grid-cells" }, secs[key].map((name) => {
      const cell = h("div", { class: "grid-cell", dataset: { metric: name } });
      cell.plot = new MetricPlot([{ runId, metric: name, label: name }], { title: name, x, height: 160, compact: true });
      plots.push(cell.plot);
      observer.observe(cell);
      return cell;
    })))));
  return { el, plots, dispose: () => { observer.disconnect(); plots.forEach((p) => p.destroy()); } };
}
