// The runs page's state (columns, order, filters, sort, grouping, analysis panels): kept in
// the browser, mirrored in the URL (#/?s=...) so a link restores the view, and the shape
// saved views store on the server.
export const DEFAULT_COLUMNS = ["id", "experiment", "status", "start_time", "duration", "host", "command", "comment", "tags", "notes"];
const STORE_KEY = "sacredlite.board.table";

export function normalize(saved) {
  saved = saved && typeof saved === "object" ? saved : {};
  const list = (v) => (Array.isArray(v) ? v : []);
  return {
    columns: Array.isArray(saved.columns) && saved.columns.length ? saved.columns : DEFAULT_COLUMNS.map((key) => ({ key, visible: true })),
    sort: saved.sort || "-id",
    filters: list(saved.filters),
    statuses: list(saved.statuses),
    search: saved.search || "",
    limit: saved.limit || 50,
    offset: 0,
    groupBy: list(saved.groupBy),
    onlyDiff: !!saved.onlyDiff,
    panels: saved.panels && typeof saved.panels === "object" ? saved.panels : {},
  };
}

// The state in the URL if there is one (a shared link), else the one remembered here.
export function loadState(query) {
  const fromUrl = new URLSearchParams(query || "").get("s");
  if (fromUrl) {
    try { return normalize(JSON.parse(fromUrl)); } catch { /* a broken link: fall back */ }
  }
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(STORE_KEY) || "{}"); } catch { saved = {}; }
  return normalize(saved);
}

export function stateUrl(state) {
  return `#/?s=${encodeURIComponent(JSON.stringify({ ...state, offset: 0 }))}`;
}

// Remember the state and put it in the URL (without a new history entry or a re-route).
export function saveState(state) {
  const text = JSON.stringify({ ...state, offset: 0 });
  localStorage.setItem(STORE_KEY, text);
  if (location.hash === "" || location.hash.startsWith("#/?") || location.hash === "#/") history.replaceState(null, "", stateUrl(state));
}

// The filter part of an API query for this state (the table, export, groups, analyses).
export function filterParams(state) {
  return {
    q: state.search,
    status: state.statuses.join(","),
    filter: state.filters.length ? JSON.stringify(state.filters.map((f) => [f.path, f.op, f.value])) : "",
  };
}
