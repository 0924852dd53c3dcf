// Scatter of one config key (x) against a metric summary (y), drawn on a canvas; a
// category key is spread by index with a little jitter. Hovering names the run.
import { h } from "./dom.js";
import { hiDpiCanvas, axisScale } from "./canvas.js";
import { color } from "./colors.js";

const HEIGHT = 300;
const PAD = { left: 60, right: 20, top: 16, bottom: 36 };

export function scatterChart(data, key, width) {
  const rows = (data.rows || []).filter((r) => r.metric !== null && r.metric !== undefined);
  const xs = axisScale(rows.map((r) => (r.values || {})[key]), (data.categories || {})[key]);
  const ys = axisScale(rows.map((r) => r.metric), null);
  const [canvas, ctx] = hiDpiCanvas(width, HEIGHT, "scatter-canvas");
  const px = (t) => PAD.left + t * (width - PAD.left - PAD.right);
  const py = (t) => HEIGHT - PAD.bottom - t * (HEIGHT - PAD.top - PAD.bottom);
  const tip = h("div", { class: "muted scatter-tip" }, " ");
  const points = [];
  ctx.strokeStyle = "#374151";
  ctx.beginPath(); ctx.moveTo(PAD.left, PAD.top); ctx.lineTo(PAD.left, HEIGHT - PAD.bottom); ctx.lineTo(width - PAD.right, HEIGHT - PAD.bottom); ctx.stroke();
  ctx.fillStyle = "#6b7280"; ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "left"; ctx.fillText(xs.label(0), PAD.left, HEIGHT - PAD.bottom + 14);
  ctx.textAlign = "right"; ctx.fillText(xs.label(1), width - PAD.right, HEIGHT - PAD.bottom + 14);
  ctx.textAlign = "center"; ctx.fillText(key, (PAD.left + width - PAD.right) / 2, HEIGHT - 6);
  ctx.textAlign = "right"; ctx.fillText(ys.label(1), PAD.left - 4, PAD.top + 8); ctx.fillText(ys.label(0), PAD.left - 4, HEIGHT - PAD.bottom);
  ctx.save(); ctx.translate(12, HEIGHT / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center"; ctx.fillText(data.metric, 0, 0); ctx.restore();
  rows.forEach((r, i) => {
    const tx = xs.pos((r.values || {})[key]);
    const ty = ys.pos(r.metric);
    if (tx === null || ty === null) return;
    const jitter = xs.categorical ? (((i * 2654435761) % 1000) / 1000 - 0.5) * 0.04 : 0;
    const x = px(Math.min(1, Math.max(0, tx + jitter))), y = py(ty);
    points.push({ x, y, r });
    ctx.fillStyle = color(0);
    ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI); ctx.fill();
  });
  canvas.dataset.points = String(points.length);
  canvas.addEventListener("mousemove", (e) => {
    const rect = canvas.getBoundingClientRect();
    const mx = e.clientX - rect.left, my = e.clientY - rect.top;
    let best = null, dist = 100;
    for (const p of points) { const d = (p.x - mx) ** 2 + (p.y - my) ** 2; if (d < dist) { dist = d; best = p; } }
    tip.textContent = best ? `run ${best.r.id}: ${key} = ${JSON.stringify((best.r.values || {})[key])}, ${data.metric} = ${best.r.metric}` : " ";
  });
  return h("div", { class: "scatter" }, canvas, tip);
}
