// The pinned baseline run: kept in the browser, drawn in every plot and compare, its row
// highlighted in the table.
import { api } from "./api.js";
import { BASELINE_COLOR } from "./colors.js";

const KEY = "sacredlite.board.baseline";

export function getBaseline() {
  return localStorage.getItem(KEY) || null;
}

export function setBaseline(id) {
  if (id === null || id === undefined || id === "") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, String(id));
}

let cache = { id: null, names: null };

// The baseline's metric names (fetched once per baseline).
async function baselineMetrics(id) {
  if (cache.id !== id) cache = { id, names: api.rollups(id).then((r) => Object.keys(r)).catch(() => []) };
  return cache.names;
}

// Extra plot sources drawing the baseline's `metric`, unless the baseline is one of `runIds`.
export async function baselineSources(metric, runIds) {
  const id = getBaseline();
  if (!id || runIds.map(String).includes(id)) return [];
  const names = await baselineMetrics(id);
  return names.includes(metric) ? [{ runId: id, metric, label: `baseline #${id}`, color: BASELINE_COLOR, baseline: true }] : [];
}
