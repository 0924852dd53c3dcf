// Series colours: a fixed palette for the first runs, then golden-angle hues, so any
// number of runs get distinct colours (a 10-colour palette repeats after 10).
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

export function color(i) {
  if (i < PALETTE.length) return PALETTE[i];
  const hue = ((i - PALETTE.length) * 137.508 + 20) % 360;
  const light = 38 + ((i * 7) % 3) * 8;  // vary lightness too, so near hues still differ
  return `hsl(${hue.toFixed(1)}, 70%, ${light}%)`;
}

// The same colour with some transparency (for bands).
export function fade(c, alpha) {
  if (c.startsWith("#")) return c + Math.round(alpha * 255).toString(16).padStart(2, "0");
  return c.replace("hsl(", "hsla(").replace(")", `, ${alpha})`);
}

export const BASELINE_COLOR = "#111827";
