// Inside the layers of the depth lab's networks: how each activation layer's outputs are spread
// (a histogram per layer as a column of shaded cells, the median marked), the update-to-weight
// ratio of every dense layer (log bars) and the share of dead ReLUs.

import { decode } from "../grid.js";
import { finite, fmt, label, logAxis, logBounds, setup } from "./plot.js";

function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * drawDistributions(canvas, nets): per network, activation layers 1…L left to right, the value
 * range bottom to top; a cell's shade is its bin's share of the layer's largest bin.
 *   nets: [{name, color, histograms: {grid, range, bins}, quantiles: [[q05, q25, q50, q75, q95]…]}]
 */
export function drawDistributions(canvas, nets) {
  const { ctx, W, H, style } = setup(canvas);
  const f = style.font;
  const shown = nets.filter((n) => n.histograms);
  if (!shown.length) return;
  const left = ctx.measureText("−1.0").width + f * 1.6, bottom = f * 1.5, gap = f * 0.7;
  const rowH = (H - bottom - gap * (shown.length - 1)) / shown.length;
  shown.forEach((n, k) => {
    const { grid, range, bins } = n.histograms;
    const [lo, hi] = range;
    const layers = grid.shape[0];
    const share = decode(grid);
    const y0 = k * (rowH + gap), x0 = left, w = W - left - 4;
    const cw = w / layers, ch = rowH / bins;
    const [r, g, b] = rgb(n.color);
    ctx.fillStyle = "#f4f5f6";
    ctx.fillRect(x0, y0, w, rowH);
    for (let i = 0; i < layers; i++) {
      for (let j = 0; j < bins; j++) {
        const s = share[i * bins + j];
        if (s <= 0.002) continue;
        ctx.fillStyle = `rgba(${r},${g},${b},${Math.min(1, 0.12 + 0.88 * s)})`;
        ctx.fillRect(x0 + i * cw, y0 + rowH - (j + 1) * ch, Math.ceil(cw), Math.ceil(ch));
      }
      const q = n.quantiles?.[i];
      if (q && finite(q[2])) {
        const ym = y0 + rowH - ((Math.min(hi, Math.max(lo, q[2])) - lo) / (hi - lo)) * rowH;
        ctx.fillStyle = "#111";
        ctx.fillRect(x0 + i * cw + cw * 0.2, ym - 1, cw * 0.6, 2);
      }
    }
    ctx.fillStyle = "#444"; ctx.textAlign = "right"; ctx.textBaseline = "top";
    ctx.fillText(fmt(hi), x0 - 4, y0);
    ctx.textBaseline = "bottom";
    ctx.fillText(fmt(lo), x0 - 4, y0 + rowH);
    label(ctx, n.name, f * 0.1, y0 + rowH / 2, { baseline: "middle", color: n.color, bold: true });
  });
  ctx.fillStyle = "#444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
  const axis = "activation layer: input side → output   (dark tick: median)";
  ctx.fillText(ctx.measureText(axis).width < W - left ? axis : "layer: input → output", (left + W) / 2, H - bottom + 3);
}

/**
 * drawUpdates(canvas, nets): ‖ΔW‖/‖W‖ per dense layer on a log scale (the dashed line at 10⁻³,
 * a usual healthy size), and below, for ReLU networks, the share of dead units per layer.
 *   nets: [{name, color, ratios: [...], dead: [...]|null, diverged}]
 */
export function drawUpdates(canvas, nets) {
  const { ctx, W, H, style } = setup(canvas);
  const f = style.font;
  const withDead = nets.filter((n) => Array.isArray(n.dead));
  const deadH = withDead.length ? Math.min(H * 0.34, f * 5.5) : 0;
  const all = nets.flatMap((n) => n.ratios || []);
  const [lo0, hi0] = logBounds([...all, 1e-3], 2);
  const lo = Math.max(lo0, hi0 - 14), hi = hi0;
  const widest = ctx.measureText("10⁻¹⁰").width;
  const plot = { x0: widest + 8, y0: f * 0.6, x1: W - 4, y1: H - deadH - f * 1.6 };
  const y = logAxis(ctx, plot, lo, hi, style);
  const count = Math.max(1, ...nets.map((n) => (n.ratios || []).length));
  const slot = (plot.x1 - plot.x0) / count;
  const bw = Math.max(1, (slot * 0.84) / Math.max(1, nets.length));
  nets.forEach((n, k) => {
    ctx.fillStyle = n.color;
    ctx.globalAlpha = n.diverged ? 0.35 : 1;
    (n.ratios || []).forEach((v, i) => {
      if (!finite(v) || v <= 0) return;
      const top = Math.max(plot.y0, y(Math.max(v, 10 ** lo)));
      ctx.fillRect(plot.x0 + i * slot + slot * 0.08 + k * bw, top, Math.max(1, bw - 0.5), plot.y1 - top);
    });
    ctx.globalAlpha = 1;
  });
  if (lo <= -3 && hi >= -3) {
    ctx.save();
    ctx.strokeStyle = "#202124"; ctx.setLineDash([5, 4]); ctx.lineWidth = style.gridLine;
    ctx.beginPath(); ctx.moveTo(plot.x0, y(1e-3)); ctx.lineTo(plot.x1, y(1e-3)); ctx.stroke();
    ctx.restore();
    label(ctx, "10⁻³", plot.x0 + 3, y(1e-3) - 3, { color: "#202124", bold: true });
  }
  if (!all.some((v) => finite(v) && v > 0)) {
    label(ctx, "no update yet: press play or step", (plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2,
      { align: "center", color: "#5f6368" });
  }
  ctx.fillStyle = "#444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
  ctx.fillText("dense layer: input side → output", (plot.x0 + plot.x1) / 2, plot.y1 + 2);
  if (!deadH) return;
  const d = { x0: plot.x0, y0: H - deadH + f * 1.3, x1: plot.x1, y1: H - 2 };
  label(ctx, "dead ReLUs per layer (share of units, 0 – 100 %)", d.x0, d.y0 - f * 0.35, { color: "#444" });
  ctx.strokeStyle = "#bbb"; ctx.lineWidth = style.gridLine;
  ctx.strokeRect(d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
  const layers = Math.max(...withDead.map((n) => n.dead.length));
  const ds = (d.x1 - d.x0) / layers;
  const dw = Math.max(1, (ds * 0.84) / withDead.length);
  withDead.forEach((n, k) => {
    ctx.fillStyle = n.color;
    n.dead.forEach((v, i) => {
      if (!finite(v) || v <= 0) return;
      const h = v * (d.y1 - d.y0);
      ctx.fillRect(d.x0 + i * ds + ds * 0.08 + k * dw, d.y1 - h, Math.max(1, dw - 0.5), h);
    });
  });
}
