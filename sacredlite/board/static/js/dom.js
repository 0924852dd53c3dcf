// Small DOM helpers. Everything a run contains is inserted as text, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" || key === "checked" || key === "selected") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  const hours = Math.floor(s / 3600);
  if (hours < 48) return `${hours}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

// The API sends NaN and ±Infinity (which JSON cannot hold) as these strings; show them as
// the numbers they stand for, as Sacred's files spell them.
const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

// JSON text of a value, with the non-finite stand-ins unquoted.
export function fmtJson(value, indent) {
  return JSON.stringify(value, null, indent).replace(/"(NaN|-?Infinity)"/g, "$1");
}

export function fmtValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(5).replace(/\.?0+(e|$)/, "$1");
  if (typeof value === "object") return fmtJson(value);
  return String(value);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function statusBadge(status) {
  return h("span", { class: `status status-${String(status).toLowerCase()}` }, status);
}

// Render any JSON value as a collapsible tree; keys in `marked` (dotted paths) are
// highlighted; `annotate(path)` may return {cls, title, doc} for a key (origin, docs).
export function tree(value, path = "", marked = new Set(), annotate = null) {
  if (value === null || typeof value !== "object") {
    const kind = value === null ? "null" : NON_FINITE.has(value) ? "number" : typeof value;
    return h("span", { class: `leaf t-${kind}` }, fmtJson(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  if (!entries.length) return h("span", { class: "leaf" }, Array.isArray(value) ? "[]" : "{}");
  return h("ul", { class: "tree" }, entries.map(([k, v]) => {
    const full = path ? `${path}.${k}` : k;
    const nested = v !== null && typeof v === "object" && Object.keys(v).length;
    const note = (annotate && annotate(full)) || {};
    const cls = note.cls || (marked.has(full) ? "changed" : "");
    const key = h("span", { class: "key" + (cls ? ` ${cls}` : ""), dataset: { path: full }, title: note.title || (marked.has(full) ? "changed from the default" : null) }, k);
    const doc = note.doc ? h("span", { class: "config-doc" }, `# ${note.doc}`) : null;
    if (!nested) return h("li", {}, key, ": ", tree(v, full, marked, annotate), doc);
    return h("li", {}, h("details", { open: true }, h("summary", {}, key, doc), tree(v, full, marked, annotate)));
  }));
}

export function toast(message, isError = false) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = isError ? "error" : "";
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

export function flattenObj(value, prefix = "", out = {}) {
  if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flattenObj(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

// Replace an element's children (arrays flattened; null/false skipped).
export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}
