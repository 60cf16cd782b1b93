// The perceptron's plane: shaded score sign, the line before/after an update, the points.

import { decode } from "../grid.js";
import { BLUE, ORANGE, css } from "../colors.js";
import { plotStyle } from "../shell.js";

const tint = (c) => c.map((v) => Math.round(255 + (v - 255) * 0.14));
const BLUE_TINT = tint(BLUE), ORANGE_TINT = tint(ORANGE), WHITE = [255, 255, 255];

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

// The features the engine offers (engine/features.py), to evaluate the score w·φ(x) + b at
// every pixel: the boundary is then exact at display resolution (a smooth curve for x₁·x₂ or
// x₁², not a staircase of grid cells), and zero weights give a score of exactly 0.
const FEATURES = {
  x1: (a) => a, x2: (a, b) => b, x1x2: (a, b) => a * b, x1sq: (a) => a * a, x2sq: (a, b) => b * b,
  sinx1: (a) => Math.sin(a), sinx2: (a, b) => Math.sin(b),
};

/** score(x1, x2) of a model {features, w, b}, or null when a feature is unknown here. */
function scorer(model) {
  if (!model || !model.features.every((f) => f in FEATURES)) return null;
  const fs = model.features.map((f) => FEATURES[f]);
  return (a, b) => fs.reduce((sum, f, i) => sum + model.w[i] * f(a, b), model.b);
}

/** A score function from the encoded grid (bilinear between its points), for unknown features. */
function gridScorer(grid, [lo, hi]) {
  const v = decode(grid);
  const [h, w] = grid.shape;
  const zero = ((grid.range[1] - grid.range[0]) / 255) * 0.51; // within half a step of 0 is 0
  return (a, b) => {
    const gx = ((a - lo) / (hi - lo)) * (w - 1), gy = ((hi - b) / (hi - lo)) * (h - 1);
    const c = Math.min(w - 2, Math.max(0, Math.floor(gx))), r = Math.min(h - 2, Math.max(0, Math.floor(gy)));
    const fx = gx - c, fy = gy - r;
    const top = v[r * w + c] * (1 - fx) + v[r * w + c + 1] * fx;
    const s = top * (1 - fy) + (v[(r + 1) * w + c] * (1 - fx) + v[(r + 1) * w + c + 1] * fx) * fy;
    return Math.abs(s) <= zero ? 0 : s;
  };
}

/**
 * Shade sign(score) pixel by pixel (white where it is 0: sign(0) = 0) and, when no straight line
 * is drawn, trace score = 0 by marching squares on a 2-px lattice.
 */
function shade(ctx, score, W, dpr, contour, fromPixel) {
  const N = Math.max(1, Math.round(W * dpr));
  const img = ctx.createImageData(N, N);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const s = score(...fromPixel(((x + 0.5) * W) / N, ((y + 0.5) * W) / N));
      const c = s > 0 ? BLUE_TINT : s < 0 ? ORANGE_TINT : WHITE;
      const k = 4 * (y * N + x);
      img.data[k] = c[0]; img.data[k + 1] = c[1]; img.data[k + 2] = c[2]; img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0); // device pixels, under the transform
  if (!contour) return;
  const step = 2, n = Math.ceil(W / step) + 1;
  const v = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) v[r * n + c] = score(...fromPixel(c * step, r * step));
  ctx.beginPath();
  for (let r = 0; r < n - 1; r++) for (let c = 0; c < n - 1; c++) {
    const a = v[r * n + c], b = v[r * n + c + 1], d = v[(r + 1) * n + c], e = v[(r + 1) * n + c + 1];
    const pts = [];
    const cross = (p, q, x0, y0, x1, y1) => {
      if ((p > 0) === (q > 0) || p === q) return;
      const t = p / (p - q);
      pts.push([(x0 + (x1 - x0) * t) * step, (y0 + (y1 - y0) * t) * step]);
    };
    cross(a, b, c, r, c + 1, r); cross(b, e, c + 1, r, c + 1, r + 1);
    cross(d, e, c, r + 1, c + 1, r + 1); cross(a, d, c, r, c, r + 1);
    for (let i = 0; i + 1 < pts.length; i += 2) { ctx.moveTo(...pts[i]); ctx.lineTo(...pts[i + 1]); }
  }
  ctx.strokeStyle = "#222"; ctx.lineWidth = 1.25 * plotStyle().line;
  ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.stroke();
}

/**
 * drawPlane(canvas, {extent, points, grid, line, before, current})
 * points: [[x1, x2, y]]; model: {features, w, b} (the score drawn exactly) or else grid: encoded
 * scores (row 0 at the top); line/before: {w1, w2, b} or
 * null (only when the features are x1, x2); current: index of the highlighted example.
 */
export function drawPlane(canvas, { extent, points, grid, model, line, before, current }) {
  const style = plotStyle(); // larger type, lines and points in presenter mode
  const k = style.point / 4; // point radii grow with the plot style's point size
  const dpr = window.devicePixelRatio || 1;
  const { W, px, py } = mapping(canvas, extent);
  canvas.width = W * dpr; canvas.height = W * dpr;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, W);
  const score = scorer(model) || (grid ? gridScorer(grid, extent) : null);
  if (score) shade(ctx, score, W, dpr, !line, mapping(canvas, extent).fromPixel);
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
