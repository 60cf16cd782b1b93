// A loss surface on a canvas: sequential heat map (dark = low loss), contour lines by marching
// squares, minima and saddles marked; and the mapping between surface and canvas coordinates.
// Grids come from GET /api/v1/optimizers/surfaces/{name}: rows are y from low to high, values
// log10(f − offset) when scale is "log" (so equal steps are log-spaced levels).

import { decode } from "../grid.js";

// Sequential, not diverging (orange/blue means a sign elsewhere): dark navy → light slate.
const STOPS = [[11, 16, 32], [28, 45, 80], [62, 86, 120], [110, 128, 150], [168, 178, 190]];

export function seqColor(t) {
  const x = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  return STOPS[i].map((c, j) => c + (STOPS[i + 1][j] - c) * f);
}

/** Canvas ↔ surface mapping for `domain` [[x0, x1], [y0, y1]] on a canvas of CSS size w × h. */
export function frame(domain, w, h) {
  const [[x0, x1], [y0, y1]] = domain;
  return {
    w, h,
    px: (x) => ((x - x0) / (x1 - x0)) * w,
    py: (y) => h - ((y - y0) / (y1 - y0)) * h,
    x: (px) => x0 + (px / w) * (x1 - x0),
    y: (py) => y0 + ((h - py) / h) * (y1 - y0),
  };
}

/** Contour segments of `values` (n rows × m cols) at `level`, in grid index coordinates. */
function marching(values, n, m, level, out) {
  for (let i = 0; i < n - 1; i++) {
    for (let j = 0; j < m - 1; j++) {
      const a = values[i * m + j], b = values[i * m + j + 1];
      const c = values[(i + 1) * m + j + 1], d = values[(i + 1) * m + j];
      const code = (a > level) | ((b > level) << 1) | ((c > level) << 2) | ((d > level) << 3);
      if (code === 0 || code === 15) continue;
      const t = (p, q) => (level - p) / (q - p || 1e-12);
      const e = [
        [j + t(a, b), i], [j + 1, i + t(b, c)], [j + t(d, c), i + 1], [j, i + t(a, d)],
      ]; // bottom, right, top, left edges
      const pairs = {
        1: [[3, 0]], 2: [[0, 1]], 3: [[3, 1]], 4: [[1, 2]], 5: [[3, 2], [0, 1]], 6: [[0, 2]],
        7: [[3, 2]], 8: [[2, 3]], 9: [[0, 2]], 10: [[0, 3], [1, 2]], 11: [[1, 2]], 12: [[1, 3]],
        13: [[0, 1]], 14: [[0, 3]],
      }[code];
      for (const [p, q] of pairs) out.push(e[p][0], e[p][1], e[q][0], e[q][1]);
    }
  }
}

/**
 * Draw the surface into a new canvas of pixel size (w·dpr) × (h·dpr) and return it.
 * `levels` contour lines evenly spaced in the grid's (possibly log) values.
 */
export function renderSurface(surf, w, h, dpr, levels = 16) {
  const values = decode(surf.grid);
  const [n, m] = surf.grid.shape;
  const [lo, hi] = surf.grid.range;
  const img = document.createElement("canvas");
  img.width = m; img.height = n;
  const ictx = img.getContext("2d");
  const data = ictx.createImageData(m, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const c = seqColor((values[i * m + j] - lo) / (hi - lo || 1));
      const k = ((n - 1 - i) * m + j) * 4; // row 0 is the lowest y: the canvas's bottom
      data.data[k] = c[0]; data.data[k + 1] = c[1]; data.data[k + 2] = c[2]; data.data[k + 3] = 255;
    }
  }
  ictx.putImageData(data, 0, 0);
  const out = document.createElement("canvas");
  out.width = Math.round(w * dpr); out.height = Math.round(h * dpr);
  const ctx = out.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(img, 0, 0, out.width, out.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const segs = [];
  for (let l = 1; l <= levels; l++) marching(values, n, m, lo + ((hi - lo) * l) / (levels + 1), segs);
  const sx = w / (m - 1), sy = h / (n - 1);
  ctx.strokeStyle = "rgba(255,255,255,0.28)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let k = 0; k < segs.length; k += 4) {
    ctx.moveTo(segs[k] * sx, h - segs[k + 1] * sy);
    ctx.lineTo(segs[k + 2] * sx, h - segs[k + 3] * sy);
  }
  ctx.stroke();
  const f = frame(surf.domain, w, h);
  for (const [x, y] of surf.minima || []) star(ctx, f.px(x), f.py(y), 9);
  for (const [x, y] of surf.saddles || []) {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(f.px(x) - 8, f.py(y)); ctx.lineTo(f.px(x) + 8, f.py(y));
    ctx.moveTo(f.px(x), f.py(y) - 8); ctx.lineTo(f.px(x), f.py(y) + 8);
    ctx.stroke();
  }
  return out;
}

/** A minimum: a white star with a dark outline. */
export function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    const rr = k % 2 ? r * 0.45 : r;
    ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
  ctx.fillStyle = "#fff"; ctx.strokeStyle = "#111"; ctx.lineWidth = 1.5;
  ctx.fill(); ctx.stroke();
}

/** A path: dark outline under the colour, so every colour (white too) reads on any shade. */
export function drawPath(ctx, f, pts, color, width = 2.5) {
  if (!pts.length) return;
  for (const [stroke, lw] of [["rgba(0,0,0,0.75)", width + 2.5], [color, width]]) {
    ctx.strokeStyle = stroke; ctx.lineWidth = lw; ctx.lineJoin = "round"; ctx.lineCap = "round";
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(f.px(x), f.py(y)) : ctx.moveTo(f.px(x), f.py(y))));
    ctx.stroke();
  }
}

/** The moving head: a filled dot with a dark ring; a cross when the run diverged. */
export function drawHead(ctx, f, [x, y], color, reason, r = 6) {
  const X = f.px(x), Y = f.py(y);
  if (reason === "diverged") {
    ctx.lineCap = "round";
    for (const [stroke, lw] of [["#000", 6], [color, 3]]) {
      ctx.strokeStyle = stroke; ctx.lineWidth = lw;
      ctx.beginPath();
      ctx.moveTo(X - r, Y - r); ctx.lineTo(X + r, Y + r); ctx.moveTo(X + r, Y - r); ctx.lineTo(X - r, Y + r);
      ctx.stroke();
    }
    return;
  }
  ctx.beginPath(); ctx.arc(X, Y, r, 0, 2 * Math.PI);
  ctx.fillStyle = color; ctx.fill();
  ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke();
  if (reason) { // stopped: a ring around the head
    ctx.beginPath(); ctx.arc(X, Y, r + 4, 0, 2 * Math.PI);
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.stroke();
  }
}

/** An arrow from (X, Y) in canvas pixels, direction (dx, dy) in surface units, length L px. */
export function arrow(ctx, X, Y, dx, dy, L, color, dash = []) {
  const n = Math.hypot(dx, -dy);
  if (!(n > 0) || !Number.isFinite(n)) return;
  const ux = dx / n, uy = -dy / n;
  const X2 = X + ux * L, Y2 = Y + uy * L;
  for (const [stroke, lw] of [["rgba(0,0,0,0.8)", 5], [color, 2.5]]) {
    ctx.strokeStyle = stroke; ctx.lineWidth = lw; ctx.setLineDash(dash);
    ctx.beginPath(); ctx.moveTo(X, Y); ctx.lineTo(X2, Y2); ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(X2, Y2);
    ctx.lineTo(X2 - ux * 9 - uy * 5, Y2 - uy * 9 + ux * 5);
    ctx.lineTo(X2 - ux * 9 + uy * 5, Y2 - uy * 9 - ux * 5);
    ctx.closePath();
    ctx.fillStyle = stroke; ctx.fill(); ctx.stroke();
  }
}

/** Arrow length in px for a vector of norm v: grows with log10 of v, clamped to [10, 80]. */
export function arrowLength(v) {
  return Math.max(10, Math.min(80, 14 + 12 * Math.log10(1 + v / 1e-3)));
}
