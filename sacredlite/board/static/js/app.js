// Hash router: #/ (runs; #/?s=STATE restores a view, #/?view=NAME a saved one), #/run/ID[/tab], #/compare?ids=1,2
import { api } from "./api.js";
import { h, fill } from "./dom.js";
import { tableView } from "./table.js";
import { runView } from "./run.js";
import { compareView } from "./compare.js";
import { openView } from "./views.js";
import { stateUrl, normalize } from "./state.js";

const view = document.getElementById("view");
let dispose = null;
let metaReady = null;  // a promise of /api/meta, fetched once and in parallel with the view

function route() {
  if (dispose) { try { dispose(); } catch { /* ignore */ } dispose = null; }
  const current = location.hash;
  const hash = current.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "run" && parts[1] !== undefined) { dispose = runView(view, metaReady, parts[1], parts[2]); return; }
  metaReady.then((meta) => {
    if (location.hash !== current) return;  // the user moved on meanwhile
    const viewName = !parts.length && new URLSearchParams(query || "").get("view");
    if (viewName) {
      openView(viewName).then((state) => location.replace(stateUrl(normalize(state))))
        .catch((err) => fill(view, h("p", { class: "error" }, err.message)));
      return;
    }
    if (parts[0] === "compare") dispose = compareView(view, meta, (new URLSearchParams(query || "").get("ids") || "").split(",").filter(Boolean));
    else dispose = tableView(view, meta, query);
  }).catch(() => {});
}

function start() {
  metaReady = api.meta();
  metaReady.then((meta) => {
    document.getElementById("store-label").textContent = `${meta.backend}: ${meta.location}${meta.read_only ? " (read-only)" : ""}`;
  }).catch((err) => {
    fill(view, h("p", { class: "error" }, `Cannot reach the board API: ${err.message}`));
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
