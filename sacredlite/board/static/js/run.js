// One run: overview, config, metrics, output (live tail), info, sources, artifacts.
import { api } from "./api.js";
import { h, fill, fmtTime, fmtDuration, fmtValue, fmtBytes, fmtJson, statusBadge, tree, toast, flattenObj } from "./dom.js";
import { metricsTab } from "./metrics_tab.js";
import { getBaseline, setBaseline } from "./baseline.js";

const TABS = ["overview", "config", "metrics", "output", "info", "sources", "artifacts"];

function kv(pairs) {
  return h("table", { class: "kv" }, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v instanceof Node ? v : fmtValue(v)))));
}

function tagEditor(runId, initial, readOnly) {
  let tags = [...(initial || [])];
  const box = h("span", { class: "tag-editor" });
  const render = () => {
    fill(box, tags.map((t, i) => h("span", { class: "tag" }, t, readOnly ? null :
      h("button", { type: "button", class: "x", title: "remove tag", onclick: () => { tags.splice(i, 1); store(); } }, "×"))));
    if (!readOnly) {
      const input = h("input", { placeholder: "add tag", class: "tag-input", size: 10 });
      box.append(h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) { tags.push(input.value.trim()); store(); } } }, input));
    }
  };
  const store = async () => {
    try { tags = (await api.setTags(runId, tags)).tags; toast("Tags saved"); } catch (err) { toast(err.message, true); }
    render();
  };
  render();
  return box;
}

function notesEditor(runId, initial, readOnly) {
  const area = h("textarea", { class: "notes", rows: 3, placeholder: readOnly ? "" : "notes…", readonly: readOnly }, initial || "");
  if (readOnly) return area;
  const save = h("button", { type: "button", class: "save-notes", onclick: async () => {
    try { await api.setNotes(runId, area.value); toast("Notes saved"); } catch (err) { toast(err.message, true); }
  } }, "Save notes");
  return h("div", {}, area, save);
}

// A dict result as a key/value table (nested keys dotted); anything else as JSON text.
function resultView(result) {
  if (result && typeof result === "object" && !Array.isArray(result) && Object.keys(result).length) {
    return h("table", { class: "kv kv-result" }, Object.entries(flattenObj(result)).map(([k, v]) => h("tr", { dataset: { key: k } }, h("th", {}, k), h("td", {}, fmtValue(v)))));
  }
  return h("pre", { class: "result" }, fmtJson(result ?? null, 1));
}

function overview(d) {
  const r = d.run;
  const ex = r.experiment || {};
  const host = r.host || {};
  const repos = (ex.repositories || []).map((g) => h("div", { class: "repo" },
    h("code", {}, g.url || ""), " @ ", h("code", {}, g.commit || ""), g.dirty ? h("span", { class: "dirty" }, " dirty") : "",
    g.diff ? h("details", {}, h("summary", {}, "uncommitted diff"), h("pre", { class: "diff" }, g.diff)) : null));
  return h("div", { class: "overview" },
    d.run.fail_trace ? h("div", { class: "fail" }, h("h3", {}, "Fail trace"), h("pre", { class: "fail-trace" }, (r.fail_trace || []).join(""))) : null,
    h("div", { class: "cols2" },
      h("div", {}, h("h3", {}, "Run"), kv([
        ["Status", statusBadge(d.status)], ["Command", r.command], ["Start", fmtTime(r.start_time)],
        ["Stop", fmtTime(r.stop_time)], ["Heartbeat", fmtTime(r.heartbeat)], ["Duration", fmtDuration(d.duration)],
        ["Result", resultView(r.result)],
        ["Comment", (r.meta || {}).comment || ""],
      ]), h("h3", {}, "Meta"), tree(r.meta || {})),
      h("div", {}, h("h3", {}, "Experiment"), kv([
        ["Name", ex.name], ["Main file", ex.mainfile], ["Base dir", ex.base_dir], ["Doc", ex.doc || undefined],
      ]), h("h4", {}, "Repositories"), repos.length ? repos : h("p", { class: "muted" }, "none"),
      h("h4", {}, "Dependencies"), h("ul", { class: "deps" }, (ex.dependencies || []).map((x) => h("li", {}, x))),
      h("h3", {}, "Host"), kv([["Hostname", host.hostname], ["OS", (host.os || []).join(" ")], ["Python", host.python_version], ["CPU", host.cpu],
        ["GPUs", host.gpus ? JSON.stringify(host.gpus) : undefined]]),
      host.ENV && Object.keys(host.ENV).length ? h("details", {}, h("summary", {}, "Environment"), tree(host.ENV)) : null)));
}

function configTab(d) {
  const meta = d.run.meta || {};
  // Sacred keeps command-line updates in meta.options.UPDATE ("lr=0.1"); some tools also
  // store meta.config_updates; entries without "=" are named configs. The server adds
  // config_origin ({key: "update" | named config}) and config_docs when it can read them.
  const cli = ((meta.options || {}).UPDATE || []).map(String);
  const fromCli = cli.filter((u) => u.includes("=")).map((u) => u.split("=")[0].trim());
  const updates = [...new Set([...Object.keys(flattenObj(meta.config_updates || {})), ...fromCli])];
  const named = [...new Set([...(d.named_configs || meta.named_configs || []), ...cli.filter((u) => !u.includes("="))])];
  const origin = d.config_origin || {};
  const docs = d.config_docs || {};
  const annotate = (path) => {
    const o = origin[path];
    const doc = docs[path];
    if (o && o !== "update") return { cls: "named", title: `set by the named config ${o}`, doc };
    if (o === "update" || updates.includes(path)) return { cls: "changed", title: "set by a config update", doc };
    return doc ? { doc } : null;
  };
  const byNamed = Object.values(origin).some((o) => o !== "update");
  return h("div", {},
    h("p", { class: "muted" }, updates.length ? `Changed from defaults (highlighted): ${updates.join(", ")}.` : "No config updates on the command line.",
      named.length ? ` Named configs: ${named.join(", ")}` : "", byNamed ? " (keys they set in blue)." : ""),
    tree(d.run.config || {}, "", new Set(updates), annotate));
}

function outputTab(d, cleanup) {
  const pre = h("pre", { class: "output" });
  const note = h("span", { class: "tail-note" });
  const liveNote = h("span", { class: "live-note" });
  let end = 0;
  const TAIL = 2000000;
  api.output(d.run._id, { tail: TAIL }).then((o) => {
    pre.textContent = o.text; end = o.end;
    note.textContent = o.start > 0 ? `Showing the last ${fmtBytes(o.end - o.start)} of ${fmtBytes(o.end)}. ` : "";
  });
  if (d.status === "RUNNING") {
    const timer = setInterval(async () => {
      const o = await api.output(d.run._id, { offset: end });
      if (o.text) {
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 5;
        pre.append(document.createTextNode(o.text)); end = o.end;
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      }
    }, 2000);
    cleanup.push(() => clearInterval(timer));
    liveNote.textContent = "Live: new output appears as the run writes it.";
  }
  return h("div", {}, h("p", { class: "muted" }, note, liveNote), pre);
}

function sourcesTab(d) {
  const viewer = h("div", { class: "source-view" });
  const show = async (path) => {
    const text = await (await fetch(api.sourceUrl(d.run._id, path))).text();
    const lines = text.split("\n");
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    fill(viewer, h("h4", {}, path, " ", h("a", { href: api.sourceUrl(d.run._id, path) + "?download", download: path.split("/").pop() }, "download")),
      h("table", { class: "code" }, lines.map((line, i) => h("tr", {}, h("td", { class: "ln" }, String(i + 1)), h("td", {}, h("code", {}, line))))));
  };
  if (!d.sources.length) return h("p", { class: "muted" }, "No source files recorded.");
  return h("div", { class: "cols-side" }, h("ul", { class: "file-list" }, d.sources.map((s) => h("li", {},
    h("a", { href: "#", class: "source-link", onclick: (e) => { e.preventDefault(); show(s.path); } }, s.path)))), viewer);
}

function artifactsTab(d) {
  const viewer = h("div", { class: "artifact-view" });
  const show = async (a) => {
    const url = api.artifactUrl(d.run._id, a.name);
    fill(viewer, h("h4", {}, a.name, " ", h("a", { href: url + "?download", download: a.name.split("/").pop() }, "download")));
    if (a.content_type.startsWith("image/") && a.content_type !== "image/svg+xml") viewer.append(h("img", { src: url, alt: a.name, class: "artifact-img" }));
    else if (a.content_type.startsWith("text/") || a.content_type.includes("json")) {
      viewer.append(h("pre", { class: "artifact-text" }, await (await fetch(url)).text()));
    } else viewer.append(h("p", { class: "muted" }, "No preview for this type; use download."));
  };
  if (!d.artifacts.length) return h("p", { class: "muted" }, "No artifacts.");
  return h("div", { class: "cols-side" }, h("ul", { class: "file-list" }, d.artifacts.map((a) => h("li", {},
    h("a", { href: "#", class: "artifact-link", onclick: (e) => { e.preventDefault(); show(a); } }, a.name), " ", h("span", { class: "muted" }, fmtBytes(a.size))))), viewer);
}

export function runView(root, metaReady, runId, tab) {
  const cleanup = [];
  let disposed = false;
  cleanup.push(() => { disposed = true; });
  tab = TABS.includes(tab) ? tab : "overview";
  (async () => {
    let d, meta;
    try { [d, meta] = await Promise.all([api.run(runId), metaReady]); } catch (err) { fill(root, h("p", { class: "error" }, err.message)); return; }
    if (disposed) return;  // the user navigated away while this loaded
    const r = d.run;
    const tabs = h("nav", { class: "tabs" }, TABS.map((t) => h("a", { href: `#/run/${encodeURIComponent(runId)}/${t}`, class: t === tab ? "active" : "", dataset: { tab: t } },
      t[0].toUpperCase() + t.slice(1) + (t === "artifacts" ? ` (${d.artifacts.length})` : t === "metrics" ? ` (${d.metrics.length})` : ""))));
    const body = { overview, config: configTab, metrics: metricsTab, output: outputTab, info: (x) => tree(x.run.info || {}), sources: sourcesTab, artifacts: artifactsTab }[tab](d, cleanup);
    const pin = h("button", { type: "button", id: "pin-baseline", title: "draw this run in every plot and compare as the baseline", onclick: () => {
      setBaseline(getBaseline() === String(r._id) ? null : r._id);
      pin.textContent = getBaseline() === String(r._id) ? "Unpin baseline" : "Pin as baseline";
      pin.classList.toggle("active", getBaseline() === String(r._id));
    } }, getBaseline() === String(r._id) ? "Unpin baseline" : "Pin as baseline");
    pin.classList.toggle("active", getBaseline() === String(r._id));
    const del = meta.read_only ? null : h("button", { type: "button", class: "danger", id: "delete-run", onclick: async () => {
      if (!confirm(`Delete run ${runId}? This removes its metrics, artifacts and output and cannot be undone.`)) return;
      try { await api.remove(r._id); location.hash = "#/"; } catch (err) { toast(err.message, true); }
    } }, "Delete run");
    fill(root, h("section", { class: "run-view" },
      h("div", { class: "run-head" },
        h("h2", {}, h("span", { class: "run-id" }, `#${r._id}`), " ", h("span", { class: "run-name" }, (r.experiment || {}).name || ""), " ", statusBadge(d.status)),
        h("div", { class: "annot" }, h("div", {}, "Tags: ", tagEditor(r._id, (r.omniboard || {}).tags, meta.read_only)), notesEditor(r._id, (r.omniboard || {}).notes, meta.read_only), pin, del)),
      tabs, h("div", { class: "tab-body" }, body)));
  })();
  return () => cleanup.forEach((f) => f());
}
