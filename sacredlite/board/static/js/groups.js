// The runs grouped by one or more keys (config keys or the experiment name): a row per
// group with its count and the mean ± std of each shown column, picks for Welch's test,
// a link to the group's runs, and the groups' curves.
import { api } from "./api.js";
import { h, fill, fmtValue } from "./dom.js";
import { filterParams } from "./state.js";
import { welchBox } from "./welch.js";
import { groupPlotPanel } from "./group_plot.js";

function aggregate(a) {
  if (!a || a.n === 0 || a.mean === null || a.mean === undefined) return "";
  return `${fmtValue(a.mean)} ± ${fmtValue(a.std ?? 0)}`;
}

// Filters selecting one group's runs.
function groupFilters(by, key) {
  const values = Array.isArray(key) ? key : key && typeof key === "object" ? by.map((b) => key[b]) : [key];
  return by.map((b, i) => ({ path: b, op: "eq", value: values[i] }));
}

let current = null;  // the group plot shown (destroyed when the groups are drawn again)

export function disposeGroups() {
  if (current) current.destroy();
  current = null;
}

// The columns aggregated: the extra columns shown, or else the main metric's last and min.
function aggregated(columns, metrics) {
  if (columns.some((c) => c.startsWith("metric:"))) return columns;
  const main = metrics.includes("loss") ? "loss" : metrics.find((m) => !m.startsWith("system/"));
  return main ? [...columns, `metric:${main}:last`, `metric:${main}:min`] : columns;
}

export async function groupsView(box, state, shown, applyFilters, metrics) {
  const params = { ...filterParams(state), by: state.groupBy.join(",") };
  const columns = aggregated(shown, metrics || []);
  let data;
  try { data = await api.groups({ ...params, columns: columns.join(",") }); } catch (err) { fill(box, h("p", { class: "error" }, err.message)); return; }
  const groups = data.groups || [];
  const picks = { a: groups[0] || null, b: groups[1] || null };
  const aggCols = columns.filter((c) => groups.some((g) => g.aggregates && g.aggregates[c]));
  const radio = (which, g, i) => h("input", { type: "radio", name: `welch-${which}`, class: `pick-${which}`, value: String(i), checked: picks[which] === g,
    onchange: () => { picks[which] = g; } });
  const table = h("table", { class: "runs groups" },
    h("thead", {}, h("tr", {}, h("th", { title: "group A for Welch's test" }, "A"), h("th", { title: "group B" }, "B"),
      h("th", {}, state.groupBy.join(", ")), h("th", {}, "runs"), aggCols.map((c) => h("th", { dataset: { key: c } }, `${c} (mean ± std)`)), h("th", {}, ""))),
    h("tbody", {}, groups.map((g, i) => h("tr", { class: "group-row", dataset: { group: JSON.stringify(g.key) } },
      h("td", {}, radio("a", g, i)), h("td", {}, radio("b", g, i)),
      h("td", { class: "group-label" }, g.label), h("td", { class: "group-count" }, String(g.count)),
      aggCols.map((c) => h("td", { class: "group-agg", dataset: { key: c }, title: g.aggregates[c] ? `n=${g.aggregates[c].n}, min ${fmtValue(g.aggregates[c].min)}, max ${fmtValue(g.aggregates[c].max)}` : null }, aggregate(g.aggregates[c]))),
      h("td", {}, h("button", { type: "button", class: "group-runs", onclick: () => applyFilters(groupFilters(state.groupBy, g.key), { ungroup: true }) }, "runs"))))));
  if (current) current.destroy();
  current = groupPlotPanel(params, metrics);
  fill(box, h("div", { class: "groups-view" },
    h("h3", {}, `${groups.length} groups of ${data.total ?? groups.reduce((a, g) => a + g.count, 0)} runs by ${state.groupBy.join(", ")}`),
    h("div", { class: "scroll-box" }, table),
    aggCols.length ? welchBox(params, aggCols, () => [picks.a, picks.b]) : h("p", { class: "muted" }, "Add metric or config columns to see their mean ± std per group and to test differences."),
    current.el));
}
