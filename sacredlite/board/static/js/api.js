// Fetch wrappers for the board's JSON API.

async function call(method, url, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(url, opts);
  const data = await resp.json().catch(() => ({ error: `HTTP ${resp.status}` }));
  if (!resp.ok) throw new Error(data.error || `HTTP ${resp.status}`);
  return data;
}

const enc = encodeURIComponent;
export const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString();

export const api = {
  meta: () => call("GET", "/api/meta"),
  keys: () => call("GET", "/api/keys"),
  runs: (params) => call("GET", `/api/runs?${q(params)}`),
  run: (id) => call("GET", `/api/runs/${enc(id)}`),
  output: (id, params) => call("GET", `/api/runs/${enc(id)}/output?${q(params)}`),
  rollups: (id) => call("GET", `/api/runs/${enc(id)}/metrics`),
  metric: (id, name, params) => call("GET", `/api/runs/${enc(id)}/metrics/${enc(name)}?${q(params)}`),
  setTags: (id, tags) => call("PUT", `/api/runs/${enc(id)}/tags`, { tags }),
  setNotes: (id, notes) => call("PUT", `/api/runs/${enc(id)}/notes`, { notes }),
  remove: (id) => call("DELETE", `/api/runs/${enc(id)}`, { confirm: id }),
  compare: (ids) => call("GET", `/api/compare?ids=${ids.map(enc).join(",")}`),
  diff: (ids, what, path) => call("GET", `/api/diff?${q({ ids: ids.join(","), what, path })}`),
  metricSections: (id) => call("GET", `/api/runs/${enc(id)}`).then((d) => d.metric_sections),
  groups: (params) => call("GET", `/api/groups?${q(params)}`),
  groupMetric: (params) => call("GET", `/api/groups/metric?${q(params)}`),
  welch: (params) => call("GET", `/api/welch?${q(params)}`),
  parallel: (params) => call("GET", `/api/analysis/parallel?${q(params)}`),
  importance: (params) => call("GET", `/api/analysis/importance?${q(params)}`),
  views: () => call("GET", "/api/views"),
  saveView: (name, state) => call("PUT", `/api/views/${enc(name)}`, { state }),
  deleteView: (name) => call("DELETE", `/api/views/${enc(name)}`, { confirm: name }),
  exportUrl: (params) => `/api/export.csv?${q(params)}`,
  artifactUrl: (id, name) => `/api/runs/${enc(id)}/artifacts/${name.split("/").map(enc).join("/")}`,
  sourceUrl: (id, path) => `/api/runs/${enc(id)}/sources/${path.split("/").map(enc).join("/")}`,
};
