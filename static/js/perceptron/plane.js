// The perceptron's plane: shaded score sign, the line before/after an update, the points.

import { decode } from "../grid.js";
import { BLUE, ORANGE, css } from "../colors.js";
import { plotStyle } from "../shell.js";

const tint = (c) => css(c.map((v) => 255 + (v - 255) * 0.14));
const LIGHT_BLUE = tint(BLUE), LIGHT_ORANGE = tint(ORANGE);

/** Pixel ↔ data mapping of a square canvas showing [lo, hi]². */
export function mapping(canvas, [lo, hi]) {
  const W = canvas.clientWidth || canvas.width;
  const s = W / (hi - lo);
  return {
    W,
    px: (x) => (x - lo) * s,
    py: (y) => W - (y - lo) * s,
    fromPixel: (X, Y) => [lo + X / s, lo + (W - Y) / s],
  };
}

function lineEnds(w1, w2, b, lo, hi) {
  // Points of w1·x1 + w2·x2 + b = 0 on the border of [lo, hi]².
  const pts = [];
  if (Math.abs(w2) > 1e-12) for (const x of [lo, hi]) { const y = -(w1 * x + b) / w2; if (y >= lo && y <= hi) pts.push([x, y]); }
  if (Math.abs(w1) > 1e-12) for (const y of [lo, hi]) { const x = -(w2 * y + b) / w1; if (x >= lo && x <= hi) pts.push([x, y]); }
  return pts.length >= 2 ? [pts[0], pts[pts.length - 1]] : null;
}

/**
 * drawPlane(canvas, {extent, points, grid, line, before, current})
 * points: [[x1, x2, y]]; grid: encoded scores (row 0 at the top); line/before: {w1, w2, b} or
 * null (only when the features are x1, x2); current: index of the highlighted example.
 */
export function drawPlane(canvas, { extent, points, grid, line, before, current }) {
  const style = plotStyle(); // larger type, lines and points in presenter mode
  const k = style.point / 4; // point radii grow with the plot style's point size
  const dpr = window.devicePixelRatio || 1;
  const { W, px, py } = mapping(canvas, extent);
  canvas.width = W * dpr; canvas.height = W * dpr;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, W);
  if (grid) {
    const v = decode(grid);
    const [h, w] = grid.shape;
    const cell = W / (w - 1);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
      const s = v[r * w + c];
      if (Math.abs(s) < 1e-9) continue;
      ctx.fillStyle = s > 0 ? LIGHT_BLUE : LIGHT_ORANGE;
      ctx.fillRect(Math.floor((c - 0.5) * cell), Math.floor((r - 0.5) * cell), Math.ceil(cell) + 1, Math.ceil(cell) + 1);
    }
  }
  const [lo, hi] = extent;
  ctx.strokeStyle = "#c8ccd0"; ctx.lineWidth = style.gridLine;
  if (lo < 0 && hi > 0) {
    ctx.beginPath(); ctx.moveTo(px(0), 0); ctx.lineTo(px(0), W); ctx.moveTo(0, py(0)); ctx.lineTo(W, py(0)); ctx.stroke();
  }
  for (const [l, kind] of [[before, "dashed"], [line, "solid"]]) {
    if (!l) continue;
    const ends = lineEnds(l.w1, l.w2, l.b, lo, hi);
    if (!ends) continue;
    ctx.strokeStyle = kind === "solid" ? "#222" : "#7a7f85";
    ctx.lineWidth = kind === "solid" ? style.line * 1.25 : style.line;
    ctx.setLineDash(kind === "solid" ? [] : [3.5 * style.line, 2.5 * style.line]);
    ctx.beginPath(); ctx.moveTo(px(ends[0][0]), py(ends[0][1])); ctx.lineTo(px(ends[1][0]), py(ends[1][1])); ctx.stroke();
  }
  ctx.setLineDash([]);
  const r = k * (points.length <= 20 ? 9 : points.length <= 100 ? 5.5 : 4);
  points.forEach(([x1, x2, y]) => {
    ctx.beginPath(); ctx.arc(px(x1), py(x2), r, 0, 2 * Math.PI);
    ctx.fillStyle = css(y > 0 ? BLUE : ORANGE); ctx.fill();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5 * k; ctx.stroke();
  });
  if (current !== null && current !== undefined && points[current]) {
    const [x1, x2] = points[current];
    ctx.beginPath(); ctx.arc(px(x1), py(x2), r + 6 * k, 0, 2 * Math.PI);
    ctx.strokeStyle = "#111"; ctx.lineWidth = 1.5 * style.line; ctx.stroke();
  }
  // The shown range, on a white halo so the shading and points do not hide it.
  ctx.font = `${style.font}px system-ui, sans-serif`;
  ctx.textBaseline = "alphabetic"; ctx.lineJoin = "round";
  const range = `x₁, x₂ ∈ [${+lo.toFixed(2)}, ${+hi.toFixed(2)}]`.replace(/-/g, "−");
  ctx.strokeStyle = "rgba(255,255,255,.9)"; ctx.lineWidth = 4;
  ctx.strokeText(range, 6, W - 8);
  ctx.fillStyle = "#5f6368"; ctx.fillText(range, 6, W - 8);
}
