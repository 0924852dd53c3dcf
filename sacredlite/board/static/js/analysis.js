// The analysis panels above the runs table, over the runs matching its filters: parallel
// coordinates (brushing filters the table), a scatter of a config key against a metric
// summary, and the importance of config keys for that summary. Their settings are part of
// the page state (so saved views and links keep them).
import { api } from "./api.js";
import { h, fill, toast } from "./dom.js";
import { filterParams } from "./state.js";
import { parallelChart, brushFilters } from "./parallel.js";
import { scatterChart } from "./scatter.js";
import { importanceList } from "./importance.js";

const KINDS = [["parallel", "Parallel coordinates"], ["scatter", "Scatter"], ["importance", "Importance"]];
const SUMMARIES = ["last", "min", "max"];

export function analysisPanels(state, save, getKeys, applyFilters) {
  const p = state.panels;
  const el = h("div", { class: "analysis" });
  const body = h("div", { class: "analysis-body" });
  const bar = h("div", { class: "row analysis-bar" });
  let token = null;

  const defaults = () => {
    const keys = getKeys();
    const metrics = keys.metrics.filter((m) => !m.startsWith("system/"));
    if (!p.metric && metrics.length) p.metric = `metric:${metrics.includes("loss") ? "loss" : metrics[0]}:last`;
    const config = keys.config.filter((k) => k !== "config.seed");
    if (!Array.isArray(p.keys) || !p.keys.length) p.keys = config.slice(0, 4);
    if (!p.x) p.x = config[0] || "";
  };

  function controls() {
    const keys = getKeys();
    const [, name = "", summary = "last"] = /^metric:(.*):(last|min|max)$/.exec(p.metric || "") || [];
    const metricSel = h("select", { class: "an-metric", onchange: (e) => { p.metric = `metric:${e.target.value}:${summary}`; save(); draw(); } },
      keys.metrics.map((m) => h("option", { value: m, selected: m === name }, m)));
    const sumSel = h("select", { class: "an-summary", onchange: (e) => { p.metric = `metric:${name}:${e.target.value}`; save(); draw(); } },
      SUMMARIES.map((s) => h("option", { value: s, selected: s === summary }, s)));
    const metricPick = h("label", {}, "metric ", metricSel, " ", sumSel);
    if (p.open === "parallel") {
      const add = h("input", { list: "column-keys", placeholder: "add axis, e.g. config.lr", class: "an-key-add", size: 16 });
      return h("div", { class: "row" }, metricPick, " axes: ",
        p.keys.map((k, i) => h("span", { class: "chip" }, k, h("button", { type: "button", class: "x", onclick: () => { p.keys.splice(i, 1); save(); draw(); } }, "×"))),
        h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); const k = add.value.trim(); if (k && !p.keys.includes(k)) { p.keys.push(k); save(); draw(); } } }, add));
    }
    if (p.open === "scatter") {
      return h("div", { class: "row" }, h("label", {}, "x ", h("select", { class: "an-x", onchange: (e) => { p.x = e.target.value; save(); draw(); } },
        keys.config.map((k) => h("option", { value: k, selected: k === p.x }, k)))), " y ", metricPick);
    }
    return h("div", { class: "row" }, metricPick);
  }

  async function draw() {
    renderBar();
    if (!p.open) { fill(body); return; }
    defaults();
    const t = (token = {});
    const width = Math.max(400, (el.clientWidth || 1000) - 24);
    const params = filterParams(state);
    fill(body, controls(), h("p", { class: "muted" }, "Loading…"));
    try {
      let chart;
      if (p.open === "parallel") {
        const data = await api.parallel({ ...params, keys: p.keys.join(","), metric: p.metric });
        chart = parallelChart(data, width, (key, brush, scale) => {
          applyFilters(brushFilters(key, brush, scale), { replacePaths: [key] });
        });
      } else if (p.open === "scatter") {
        const data = await api.parallel({ ...params, keys: p.x, metric: p.metric });
        chart = scatterChart(data, p.x, width);
      } else {
        chart = importanceList(await api.importance({ ...params, metric: p.metric }));
      }
      if (t === token) fill(body, controls(), chart);
    } catch (err) { if (t === token) fill(body, controls(), h("p", { class: "error" }, err.message)); }
  }

  function renderBar() {
    fill(bar, "Analysis: ", KINDS.map(([k, label]) => h("button", { type: "button", class: "an-toggle" + (p.open === k ? " active" : ""), dataset: { kind: k },
      onclick: () => { p.open = p.open === k ? null : k; save(); draw(); } }, label)));
  }

  fill(el, bar, body);
  renderBar();
  let keysReady = false;
  return {
    el,
    refresh: () => { if (keysReady && p.open) draw().catch((err) => toast(err.message, true)); },
    keysChanged: () => { keysReady = true; if (p.open) draw(); },
  };
}
