// Parallel coordinates (canvas, drawn here): one axis per chosen config key and one for the
// metric summary, a line per run coloured by the metric. Dragging along an axis brushes it:
// runs outside fade, and the brush becomes a filter of the table (config and metric axes).
import { h } from "./dom.js";
import { hiDpiCanvas, axisScale, ramp } from "./canvas.js";

const HEIGHT = 340;
const PAD = { top: 40, bottom: 24, side: 60 };

export function parallelChart(data, width, onBrush) {
  const axes = [...data.keys, data.metric];
  const rows = data.rows || [];
  const valueOf = (r, k) => (k === data.metric ? r.metric : (r.values || {})[k]);
  const scales = axes.map((k) => axisScale(rows.map((r) => valueOf(r, k)), k === data.metric ? null : (data.categories || {})[k]));
  const brushes = new Map();  // axis index -> [t0, t1] in 0..1 (bottom = 0)
  const [canvas, ctx] = hiDpiCanvas(width, HEIGHT, "parallel-canvas");
  const xAt = (i) => PAD.side + (i * (width - 2 * PAD.side)) / Math.max(1, axes.length - 1);
  const yAt = (t) => PAD.top + (1 - t) * (HEIGHT - PAD.top - PAD.bottom);
  const tAt = (y) => 1 - (y - PAD.top) / (HEIGHT - PAD.top - PAD.bottom);
  const inBrush = (r) => [...brushes].every(([i, [a, b]]) => { const t = scales[i].pos(valueOf(r, axes[i])); return t !== null && t >= a - 1e-9 && t <= b + 1e-9; });
  const metricScale = scales[axes.length - 1];

  function draw() {
    ctx.clearRect(0, 0, width, HEIGHT);
    let shown = 0;
    for (const pass of [false, true]) {
      for (const r of rows) {
        const hit = inBrush(r);
        if (hit !== pass) continue;
        if (hit) shown++;
        const t = metricScale.pos(r.metric);
        ctx.strokeStyle = hit ? (t === null ? "#888" : ramp(t)) : "rgba(160,160,160,0.25)";
        ctx.lineWidth = hit ? 1.4 : 1;
        ctx.beginPath();
        let started = false;
        axes.forEach((k, i) => {
          const p = scales[i].pos(valueOf(r, k));
          if (p === null) { started = false; return; }
          if (!started) ctx.moveTo(xAt(i), yAt(p)); else ctx.lineTo(xAt(i), yAt(p));
          started = true;
        });
        ctx.stroke();
      }
    }
    ctx.fillStyle = "#1d2330";
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    axes.forEach((k, i) => {
      const x = xAt(i);
      ctx.strokeStyle = "#374151"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, yAt(0)); ctx.lineTo(x, yAt(1)); ctx.stroke();
      ctx.fillText(k, x, 14);
      ctx.fillStyle = "#6b7280";
      ctx.fillText(scales[i].label(1), x, yAt(1) - 6);
      ctx.fillText(scales[i].label(0), x, yAt(0) + 14);
      ctx.fillStyle = "#1d2330";
      const b = brushes.get(i);
      if (b) { ctx.fillStyle = "rgba(36,87,197,0.18)"; ctx.fillRect(x - 8, yAt(b[1]), 16, yAt(b[0]) - yAt(b[1])); ctx.fillStyle = "#1d2330"; }
    });
    canvas.dataset.shown = String(shown);
    canvas.dataset.rows = String(rows.length);
  }

  let drag = null;
  let frame = 0;
  canvas.addEventListener("pointerdown", (e) => {
    const rect = canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const i = axes.findIndex((_, j) => Math.abs(xAt(j) - x) < 20);
    if (i < 0) return;
    drag = { i, t0: tAt(e.clientY - rect.top) };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const t1 = tAt(e.clientY - canvas.getBoundingClientRect().top);
    brushes.set(drag.i, [Math.max(0, Math.min(drag.t0, t1)), Math.min(1, Math.max(drag.t0, t1))]);
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });  // one redraw per frame
  });
  canvas.addEventListener("pointerup", () => {
    if (!drag) return;
    const { i } = drag;
    drag = null;
    if (frame) { cancelAnimationFrame(frame); frame = 0; draw(); }
    const b = brushes.get(i);
    if (!b || b[1] - b[0] < 0.01) { brushes.delete(i); draw(); onBrush(axes[i], null, scales[i]); return; }
    onBrush(axes[i], b, scales[i]);
  });
  draw();
  return h("div", { class: "parallel" }, canvas);
}

// Table filters for a brush on a config axis: a numeric range, or the categories inside it.
export function brushFilters(key, brush, scale) {
  if (!brush) return [];
  if (!scale.categorical) return [{ path: key, op: "ge", value: scale.value(brush[0]) }, { path: key, op: "le", value: scale.value(brush[1]) }];
  const inside = scale.categories.filter((c) => { const t = scale.pos(c); return t >= brush[0] - 1e-9 && t <= brush[1] + 1e-9; });
  return inside.length === 1 ? [{ path: key, op: "eq", value: inside[0] }] : [{ path: key, op: "in", value: inside }];
}
