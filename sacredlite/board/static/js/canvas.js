// Small helpers for the hand-drawn canvas charts (parallel coordinates, scatter).
import { h } from "./dom.js";

// A canvas sized for the screen's pixel density; returns [canvas, 2d context].
export function hiDpiCanvas(width, height, cls) {
  const ratio = window.devicePixelRatio || 1;
  const canvas = h("canvas", { class: cls, width: Math.round(width * ratio), height: Math.round(height * ratio) });
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  return [canvas, ctx];
}

// A scale for one axis: numbers map linearly, anything else by its category's index.
export function axisScale(values, categories) {
  if (categories && categories.length) {
    const index = new Map(categories.map((c, i) => [JSON.stringify(c), i]));
    const n = Math.max(1, categories.length - 1);
    return { categorical: true, categories, pos: (v) => (index.has(JSON.stringify(v)) ? index.get(JSON.stringify(v)) / n : null),
      label: (t) => String(categories[Math.round(t * n)] ?? ""), value: (t) => categories[Math.round(t * n)] };
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (typeof v === "number" && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (lo > hi) { lo = 0; hi = 1; }
  const span = hi - lo || 1;
  return { categorical: false, lo, hi, pos: (v) => (typeof v === "number" && Number.isFinite(v) ? (v - lo) / span : null),
    label: (t) => String(+(lo + t * span).toPrecision(4)), value: (t) => lo + t * span };
}

// Colour for a 0..1 position (blue low → red high).
export function ramp(t) {
  const hue = 240 - 240 * Math.max(0, Math.min(1, t));
  return `hsl(${hue.toFixed(0)}, 75%, 45%)`;
}
