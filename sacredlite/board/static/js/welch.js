// Welch's t-test between two groups of the grouped table, on one summary column: the
// difference of means, its 95% interval and the p-value (from the server).
import { api } from "./api.js";
import { h, fill, fmtValue } from "./dom.js";

function fmtP(p) {
  if (p === null || p === undefined) return "";
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

export function welchBox(params, columns, picked) {
  const out = h("div", { class: "welch-result" });
  const column = h("select", { class: "welch-column" }, columns.map((c) => h("option", { value: c }, c)));
  const run = async () => {
    const [a, b] = picked();
    if (!a || !b) { fill(out, h("p", { class: "muted" }, "Pick group A and group B in the table.")); return; }
    try {
      const r = await api.welch({ ...params, a: JSON.stringify(a.key), b: JSON.stringify(b.key), column: column.value });
      const sig = r.p !== null && r.p < 0.05;
      fill(out, h("table", { class: "kv welch" },
        h("tr", {}, h("th", {}, `A: ${a.label}`), h("td", {}, `n=${r.a.n}, mean ${fmtValue(r.a.mean)} ± ${fmtValue(r.a.std)}`)),
        h("tr", {}, h("th", {}, `B: ${b.label}`), h("td", {}, `n=${r.b.n}, mean ${fmtValue(r.b.mean)} ± ${fmtValue(r.b.std)}`)),
        h("tr", {}, h("th", {}, "difference A − B"), h("td", { class: "welch-diff" }, fmtValue(r.diff))),
        h("tr", {}, h("th", {}, "95% interval"), h("td", { class: "welch-ci" }, `[${fmtValue(r.ci95[0])}, ${fmtValue(r.ci95[1])}]`)),
        h("tr", {}, h("th", {}, "Welch t, df"), h("td", {}, `${fmtValue(r.t)}, ${fmtValue(r.df)}`)),
        h("tr", {}, h("th", {}, "p-value"), h("td", { class: "welch-p " + (sig ? "significant" : "") }, `${fmtP(r.p)} ${sig ? "(significant at 5%)" : "(not significant at 5%)"}`))));
    } catch (err) { fill(out, h("p", { class: "error" }, err.message)); }
  };
  return h("div", { class: "panel welch-panel" }, h("strong", {}, "Welch's t-test "), "on ", column, " ", h("button", { type: "button", class: "welch-run", onclick: run }, "Compare A vs B"), out);
}
