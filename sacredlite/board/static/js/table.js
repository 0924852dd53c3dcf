// The runs table: sortable, filterable, configurable columns (remembered), selection for
// compare/delete, auto-refresh while runs are running.
import { api } from "./api.js";
import { h, fill, toast, flattenObj } from "./dom.js";
import { loadState, saveState, filterParams } from "./state.js";
import { BUILTIN, label, cell, columnsPanel } from "./columns.js";
import { requestColumns, differingColumns } from "./differences.js";
import { getBaseline, setBaseline } from "./baseline.js";
import { viewsBar } from "./views.js";
import { groupsView, disposeGroups } from "./groups.js";
import { analysisPanels } from "./analysis.js";

const STATUSES = ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "INTERRUPTED", "TIMEOUT", "PROBABLY_DEAD"];
const OPS = [["eq", "="], ["ne", "≠"], ["lt", "<"], ["le", "≤"], ["gt", ">"], ["ge", "≥"], ["contains", "contains"]];

export function tableView(root, meta, query) {
  const state = loadState(query);
  const selected = new Set();
  let rows = [];
  let total = 0;
  let keys = { config: [], info: [], meta: [], metrics: [] };
  const ui = { open: false, justAdded: null };  // the columns panel's own state
  let resultKeys = new Set();
  const save = () => saveState(state);
  const extraKeys = () => state.columns.filter((c) => c.visible && !BUILTIN[c.key]).map((c) => c.key);

  const table = h("table", { class: "runs" });
  const pager = h("div", { class: "pager" });
  const filterBar = h("div", { class: "filters" });
  const panelBox = h("div", { class: "columns-panel" });
  const actions = h("div", { class: "actions" });
  const datalist = h("datalist", { id: "column-keys" });

  const groupsBox = h("div", { class: "groups-box" });
  const tableWrap = h("div", { class: "table-wrap" }, table);
  let requested = [];

  async function refresh() {
    requested = requestColumns(extraKeys(), keys.config, state.onlyDiff);
    const params = {
      sort: state.sort, offset: state.offset, limit: state.limit, columns: requested.join(","), ...filterParams(state),
    };
    try {
      const data = await api.runs(params);
      rows = data.rows; total = data.total;
      noteResultKeys();
      renderTable(); renderPager(); renderActions();
    } catch (err) { toast(err.message, true); }
    if (state.groupBy.length) groupsView(groupsBox, state, extraKeys(), applyFilters, keys.metrics);
    else { disposeGroups(); fill(groupsBox); }
    panels.refresh();
  }

  // Filters added from elsewhere (a group's "runs" link, a brushed axis).
  function applyFilters(filters, { ungroup = false, replacePaths = [] } = {}) {
    state.filters = [...state.filters.filter((f) => !replacePaths.includes(f.path)), ...filters];
    if (ungroup) state.groupBy = [];
    state.offset = 0; save(); renderFilters(); renderTools(); refresh();
  }

  function renderTable() {
    const shown = state.columns.filter((c) => c.visible);
    const cols = state.onlyDiff ? differingColumns(rows, shown, requested, BUILTIN) : shown;
    const baseline = getBaseline();
    const sortKey = state.sort.replace(/^[-+]/, "");
    const desc = state.sort.startsWith("-");
    const allBox = h("input", { type: "checkbox", title: "select all on this page", checked: rows.length > 0 && rows.every((r) => selected.has(r.id)),
      onchange: (e) => { rows.forEach((r) => (e.target.checked ? selected.add(r.id) : selected.delete(r.id))); renderTable(); renderActions(); } });
    const head = h("tr", {}, h("th", { class: "sticky sel" }, allBox), cols.map((c) => h("th", {
      class: "sortable" + (c.key === "id" ? " sticky c-id" : "") + (c.key === sortKey ? (desc ? " desc" : " asc") : ""), dataset: { key: c.key },
      onclick: () => { state.sort = (c.key === sortKey && !desc ? "-" : "") + c.key; if (c.key === sortKey && desc) state.sort = c.key; state.offset = 0; save(); refresh(); },
    }, label(c.key))));
    const body = rows.map((r) => h("tr", { class: `row-${String(r.status).toLowerCase()}` + (String(r.id) === baseline ? " baseline" : ""), dataset: { id: r.id }, title: String(r.id) === baseline ? "the pinned baseline" : null },
      h("td", { class: "sticky sel" }, h("input", { type: "checkbox", class: "select", checked: selected.has(r.id),
        onchange: (e) => { e.target.checked ? selected.add(r.id) : selected.delete(r.id); renderActions(); } })),
      cols.map((c) => h("td", { class: `c-${c.key.replace(/[^a-z0-9_-]/gi, "_")}` + (c.key === "id" ? " sticky" : "") }, cell(r, c.key)))));
    fill(table, h("thead", {}, head), h("tbody", {}, body.length ? body : h("tr", {}, h("td", { colspan: cols.length + 1, class: "muted" }, "No runs match."))));
  }

  function renderPager() {
    const last = Math.min(total, state.offset + state.limit);
    fill(pager, 
      h("button", { type: "button", disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); refresh(); } }, "‹ Prev"),
      h("span", { class: "count" }, total ? ` ${state.offset + 1}–${last} of ${total} runs ` : " 0 runs "),
      h("button", { type: "button", disabled: last >= total, onclick: () => { state.offset += state.limit; refresh(); } }, "Next ›"));
  }

  function renderActions() {
    const ids = Array.from(selected);
    const baseline = getBaseline();
    const exportParams = { ...filterParams(state), sort: state.sort, columns: extraKeys().join(",") };
    fill(actions,
      h("button", { type: "button", id: "baseline-btn", disabled: ids.length !== 1 && !baseline, title: "pin the selected run as the baseline drawn in every plot",
        onclick: () => { setBaseline(ids.length === 1 && String(ids[0]) !== baseline ? ids[0] : null); renderTable(); renderActions(); } },
        ids.length === 1 && String(ids[0]) !== baseline ? "Pin baseline" : baseline ? `Unpin baseline #${baseline}` : "Pin baseline"),
      h("a", { class: "button export-csv", href: api.exportUrl(exportParams), download: "runs.csv", title: "every run matching the filters, with the shown columns" }, "Export CSV"),
      h("button", { type: "button", id: "compare-btn", disabled: ids.length < 2 || ids.length > meta.limits.compared_runs,
        title: ids.length > meta.limits.compared_runs ? `Compare at most ${meta.limits.compared_runs} runs at a time` : null, onclick: () => { location.hash = `#/compare?ids=${ids.map(encodeURIComponent).join(",")}`; } }, `Compare (${ids.length})`),
      meta.read_only ? null : h("button", { type: "button", id: "delete-btn", class: "danger", disabled: !ids.length, onclick: async () => {
        if (!confirm(`Delete ${ids.length} run(s): ${ids.join(", ")}? This removes their metrics, artifacts and output and cannot be undone.`)) return;
        for (const id of ids) {
          try { await api.remove(id); selected.delete(id); } catch (err) { toast(err.message, true); }
        }
        refresh();
      } }, "Delete…"));
  }

  function renderFilters() {
    const path = h("input", { placeholder: "column, e.g. config.lr", list: "column-keys", class: "f-path" });
    const op = h("select", { class: "f-op" }, OPS.map(([v, t]) => h("option", { value: v }, t)));
    const value = h("input", { placeholder: "value", class: "f-value" });
    const add = (e) => {
      e.preventDefault();
      if (!path.value.trim()) return;
      state.filters.push({ path: path.value.trim(), op: op.value, value: value.value });
      state.offset = 0; save(); renderFilters(); refresh();
    };
    const search = h("input", { type: "search", placeholder: "search id, name, host, comment, tags…", value: state.search, class: "search",
      oninput: (e) => { state.search = e.target.value; state.offset = 0; save(); clearTimeout(search.t); search.t = setTimeout(refresh, 250); } });
    const chips = STATUSES.map((s) => h("label", { class: `chip status-${s.toLowerCase()}` },
      h("input", { type: "checkbox", value: s, class: "status-filter", checked: state.statuses.includes(s),
        onchange: (e) => { state.statuses = e.target.checked ? [...state.statuses, s] : state.statuses.filter((x) => x !== s); state.offset = 0; save(); refresh(); } }), s));
    const active = state.filters.map((f, i) => h("span", { class: "chip active-filter" }, `${label(f.path)} ${OPS.find((o) => o[0] === f.op)?.[1] || f.op} ${f.value} `,
      h("button", { type: "button", class: "x", title: "remove filter", onclick: () => { state.filters.splice(i, 1); save(); renderFilters(); refresh(); } }, "×")));
    fill(filterBar, 
      h("div", { class: "row" }, search, " ", chips),
      h("form", { class: "row", onsubmit: add }, path, op, value, h("button", { type: "submit" }, "Add filter"), " ", active));
  }

  const tools = h("div", { class: "row tools" });
  function renderTools() {
    const by = h("input", { placeholder: "group by, e.g. config.lr", list: "column-keys", class: "group-add", size: 18 });
    fill(tools,
      h("form", { class: "inline", onsubmit: (e) => {
        e.preventDefault();
        const key = by.value.trim();
        if (!key || state.groupBy.includes(key)) return;
        state.groupBy.push(key); save(); renderTools(); refresh();
      } }, by, h("button", { type: "submit", class: "group-btn" }, "Group")),
      state.groupBy.map((k, i) => h("span", { class: "chip group-chip" }, `by ${k} `, h("button", { type: "button", class: "x", title: "stop grouping by this key",
        onclick: () => { state.groupBy.splice(i, 1); save(); renderTools(); refresh(); } }, "×"))),
      h("label", { class: "chip" }, h("input", { type: "checkbox", class: "only-diff", checked: state.onlyDiff,
        onchange: (e) => { state.onlyDiff = e.target.checked; save(); refresh(); } }), " only differences"),
      viewsBar(state, meta.read_only));
  }

  function renderColumns() {
    columnsPanel(panelBox, state, ui, {
      changed: (needsData) => { save(); renderColumns(); if (needsData) refresh(); else renderTable(); },
    });
  }

  function renderKeys() {
    const options = [...Object.keys(BUILTIN), ...resultKeys, ...keys.config, ...keys.info, ...keys.meta,
      ...keys.metrics.flatMap((m) => [`metric:${m}:last`, `metric:${m}:min`, `metric:${m}:max`])];
    fill(datalist, [...new Set(options)].map((o) => h("option", { value: o })));
  }

  // A dict result offers its keys as columns (result.x), from the rows seen.
  function noteResultKeys() {
    const before = resultKeys.size;
    for (const r of rows) {
      if (r.result && typeof r.result === "object" && !Array.isArray(r.result)) for (const k of Object.keys(flattenObj(r.result))) resultKeys.add(`result.${k}`);
    }
    if (resultKeys.size !== before) renderKeys();
  }

  async function loadKeys() {
    try { keys = { ...keys, ...(await api.keys()) }; } catch { return; }
    renderKeys();
    if (state.onlyDiff || state.groupBy.length) refresh();
    panels.keysChanged();
  }

  const panels = analysisPanels(state, save, () => keys, applyFilters);
  fill(root, h("section", { class: "table-view" },
    h("div", { class: "toolbar" }, filterBar, tools, h("div", { class: "row" }, panelBox, actions, pager)), datalist,
    panels.el, groupsBox, tableWrap));
  renderFilters(); renderColumns(); renderActions(); renderTools();
  refresh(); loadKeys();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible" && rows.some((r) => r.status === "RUNNING" || r.status === "QUEUED")) refresh();
  }, 5000);
  return () => { clearInterval(timer); disposeGroups(); };
}
