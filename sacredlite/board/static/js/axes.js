// x-axis settings shared by the plots: which x a plot uses (step, wall time, relative
// time, another metric) and integer ticks on step axes.
import { h } from "./dom.js";

const INT_INCRS = [];
for (let p = 0; p <= 15; p++) for (const m of [1, 2, 5]) INT_INCRS.push(m * 10 ** p);

export const X_KINDS = [["step", "step"], ["wall", "wall time"], ["relative", "relative time (s)"]];

// uPlot x scale and axis for an x kind; the axis records its ticks on `el.dataset.xticks`
// (tests read them: ticks are drawn on the canvas).
export function xAxis(kind, el) {
  const label = kind === "wall" ? "wall time" : kind === "relative" ? "seconds since start" : kind.startsWith("metric:") ? kind.slice(7) : "step";
  const axis = { label, values: (u, splits) => { el.dataset.xticks = splits.join(","); return kind === "wall" ? null : splits.map((v) => String(+v.toPrecision(6))); } };
  if (kind === "wall") delete axis.values;
  if (kind === "step") axis.incrs = INT_INCRS;
  return { scale: { time: kind === "wall" }, axis };
}

// A <select> of x choices: step, times, and the given metrics.
export function xSelect(value, metrics, onchange) {
  return h("select", { class: "x-kind", title: "x axis", onchange: (e) => onchange(e.target.value) },
    X_KINDS.map(([v, t]) => h("option", { value: v, selected: v === value }, t)),
    metrics.length ? h("optgroup", { label: "another metric" }, metrics.map((m) => h("option", { value: `metric:${m}`, selected: value === `metric:${m}` }, m))) : null);
}
