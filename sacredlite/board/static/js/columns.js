// The table's columns: their labels, how a cell shows, and the Columns panel (add, show,
// order, remove), a popover whose list shows a newly added column in view.
import { h, fill, fmtTime, fmtDuration, fmtValue, statusBadge, flattenObj } from "./dom.js";
import { DEFAULT_COLUMNS } from "./state.js";

export const BUILTIN = {
  id: "ID", experiment: "Experiment", status: "Status", start_time: "Start", duration: "Duration",
  host: "Host", command: "Command", comment: "Comment", tags: "Tags", notes: "Notes", result: "Result",
};
export function label(key) {
  if (BUILTIN[key]) return BUILTIN[key];
  if (key.startsWith("metric:")) { const [, name, kind] = key.split(/:(.*):/); return `${name} (${kind})`; }
  return key;
}

export function cell(row, key) {
  switch (key) {
    case "id": return h("a", { href: `#/run/${encodeURIComponent(row.id)}`, class: "run-link" }, String(row.id));
    case "status": return statusBadge(row.status);
    case "start_time": return fmtTime(row.start_time);
    case "duration": return fmtDuration(row.duration);
    case "tags": return (row.tags || []).map((t) => h("span", { class: "tag" }, t));
    case "notes": return h("span", { class: "notes-cell" }, row.notes || "");
    case "result": return row.result && typeof row.result === "object" && !Array.isArray(row.result)
      ? Object.entries(flattenObj(row.result)).map(([k, v]) => `${k}=${fmtValue(v)}`).join(", ") : fmtValue(row.result);
    default: return fmtValue(BUILTIN[key] ? row[key] : row.cols[key]);
  }
}

// Draw the Columns panel into `box`; `ui` keeps whether it is open and the column just
// added across redraws; `changed(needsData)` is called after each change of `state.columns`.
export function columnsPanel(box, state, ui, { changed }) {
  const move = (i, d) => { const j = i + d; if (j < 0 || j >= state.columns.length) return; [state.columns[i], state.columns[j]] = [state.columns[j], state.columns[i]]; changed(false); };
  const input = h("input", { placeholder: "config.lr, info.x, metric:loss:last", list: "column-keys", class: "col-add" });
  const add = (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    const found = state.columns.find((c) => c.key === key);
    if (found) found.visible = true; else state.columns.push({ key, visible: true });
    ui.justAdded = key;
    changed(true);
    const li = box.querySelector("li.new");
    if (li) li.scrollIntoView({ block: "nearest" });
  };
  const list = state.columns.map((c, i) => h("li", { class: c.key === ui.justAdded ? "new" : "", dataset: { key: c.key } },
    h("label", {}, h("input", { type: "checkbox", checked: c.visible, onchange: (e) => { c.visible = e.target.checked; changed(true); } }), " ", label(c.key)),
    h("button", { type: "button", title: "move up", onclick: () => move(i, -1) }, "↑"),
    h("button", { type: "button", title: "move down", onclick: () => move(i, 1) }, "↓"),
    BUILTIN[c.key] ? null : h("button", { type: "button", title: "remove", onclick: () => { state.columns.splice(i, 1); changed(true); } }, "×")));
  fill(box, h("details", { open: ui.open, ontoggle: (e) => { ui.open = e.target.open; } }, h("summary", {}, "Columns"),
    h("div", { class: "col-body" },
      h("form", { onsubmit: add }, input, h("button", { type: "submit" }, "Add column")),
      h("ul", { class: "col-list" }, list),
      h("button", { type: "button", onclick: () => { state.columns = DEFAULT_COLUMNS.map((key) => ({ key, visible: true })); changed(true); } }, "Reset columns"))));
}
