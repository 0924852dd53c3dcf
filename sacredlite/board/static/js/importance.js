// Which config keys move a metric: the keys ranked by |correlation| with the metric's
// summary, with a random-forest importance when the server has scikit-learn.
import { h, fmtValue } from "./dom.js";

export function importanceList(data) {
  const keys = data.keys || [];
  const maxForest = keys.reduce((m, k) => Math.max(m, k.forest || 0), 1e-12);
  const bar = (frac, cls) => h("span", { class: `bar ${cls}` }, h("span", { class: "fill", style: `width: ${Math.round(Math.min(1, Math.abs(frac)) * 100)}%` }));
  return h("table", { class: "kv importance" },
    h("tr", {}, h("th", {}, "config key"), h("th", {}, `correlation with ${data.metric}`), data.forest_available ? h("th", {}, "forest importance") : null),
    keys.map((k) => h("tr", { dataset: { key: k.key } }, h("td", { class: "key" }, k.key),
      h("td", {}, bar(k.correlation ?? 0, (k.correlation ?? 0) < 0 ? "neg" : "pos"), " ", fmtValue(k.correlation)),
      data.forest_available ? h("td", {}, bar((k.forest || 0) / maxForest, "forest"), " ", fmtValue(k.forest)) : null)),
    data.forest_available ? null : h("tr", {}, h("td", { colspan: 2, class: "muted" }, "Install scikit-learn on the board's machine for a random-forest importance too.")));
}
