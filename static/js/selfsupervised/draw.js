// Drawing for the self-supervised lab: the 2N×2N similarity matrix, the held-out embedding,
// the chosen row's softmax, small grey images. Each function takes plain arrays and a canvas
// and sizes the canvas to its CSS box (× devicePixelRatio).

import { rawValues } from "../grid.js";
import { BLUE, ORANGE, css, divergingLUT } from "../colors.js";
import { plotStyle } from "../shell.js";

/** Ten class colours (Tableau 10): the held-out points' classes, which training never saw. */
export const CLASS_PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#7f7f7f",
];

/** A base64 float32 array {dtype: "float32", shape, data} as a Float32Array. */
export function f32(obj) {
  const bin = atob(obj.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/** The canvas's 2-D context sized to its CSS box; returns {ctx, W, H} in CSS pixels. */
export function fit(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const W = Math.max(1, canvas.clientWidth), H = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  return { ctx, W, H };
}

const scratch = document.createElement("canvas");

/** Grey image k of an encoded uint8 stack (n, h, w) into a canvas of its own pixel size:
 *  ink (1) dark on paper (0) white, as the digits are drawn. */
export function drawImage(canvas, grid, k = 0) {
  const q = rawValues(grid);
  const [h, w] = grid.shape.slice(-2);
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const off = k * h * w;
  for (let i = 0; i < h * w; i++) {
    const v = 255 - q[off + i];
    img.data[i * 4] = v; img.data[i * 4 + 1] = v; img.data[i * 4 + 2] = v; img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** The matrix's layout on the canvas (for drawing and for clicks). */
export function matrixLayout(canvas, n2) {
  const font = plotStyle().font;
  const W = canvas.clientWidth, H = canvas.clientHeight;
  const top = font * 1.5, left = font * 1.5;
  const side = Math.max(10, Math.min(W - left - 2, H - top - 2));
  return { top, left, side, cell: side / n2, n2, font };
}

/**
 * drawMatrix(canvas, {sims: uint8 grid (2N, 2N) over [−1, 1], row, labels: Uint8Array | null})
 * Colours: cosine −1 orange, 0 grey, +1 blue. Each view's own cell (always 1, left out of the
 * loss) is dark grey; the positive pairs (i, i ± N) are outlined; the chosen row is framed.
 */
export function drawMatrix(canvas, { sims, row = 0 }) {
  const { ctx } = fit(canvas);
  const n2 = sims.shape[0], n = n2 / 2;
  const L = matrixLayout(canvas, n2);
  const q = rawValues(sims);
  const lut = divergingLUT(sims.range[0], sims.range[1], 1);
  scratch.width = n2; scratch.height = n2;
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(n2, n2);
  for (let i = 0; i < n2 * n2; i++) {
    const self = Math.floor(i / n2) === i % n2;
    const v = q[i];
    img.data[i * 4] = self ? 90 : lut[v * 3];
    img.data[i * 4 + 1] = self ? 90 : lut[v * 3 + 1];
    img.data[i * 4 + 2] = self ? 90 : lut[v * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, L.left, L.top, L.side, L.side);
  // the two halves: view 1 and view 2 of the N images
  ctx.strokeStyle = "#fff"; ctx.lineWidth = Math.max(1, L.cell * 0.25);
  ctx.beginPath();
  ctx.moveTo(L.left + L.side / 2, L.top); ctx.lineTo(L.left + L.side / 2, L.top + L.side);
  ctx.moveTo(L.left, L.top + L.side / 2); ctx.lineTo(L.left + L.side, L.top + L.side / 2);
  ctx.stroke();
  // positives: (i, i + N) and (i + N, i)
  ctx.strokeStyle = "#111";
  ctx.lineWidth = Math.max(0.75, Math.min(2, L.cell * 0.16));
  for (let i = 0; i < n2; i++) {
    const p = (i + n) % n2;
    const inset = ctx.lineWidth / 2;
    ctx.strokeRect(L.left + p * L.cell + inset, L.top + i * L.cell + inset, L.cell - 2 * inset, L.cell - 2 * inset);
  }
  // the chosen row
  ctx.strokeStyle = css(ORANGE); ctx.lineWidth = Math.max(2, plotStyle().line);
  ctx.strokeRect(L.left - 3, L.top + row * L.cell, L.side + 6, L.cell);
  ctx.fillStyle = css(ORANGE);
  ctx.beginPath();
  const ym = L.top + (row + 0.5) * L.cell;
  ctx.moveTo(L.left - 4, ym); ctx.lineTo(L.left - 4 - L.font * 0.6, ym - L.font * 0.4);
  ctx.lineTo(L.left - 4 - L.font * 0.6, ym + L.font * 0.4); ctx.fill();
  // labels
  ctx.fillStyle = "#333"; ctx.font = `${L.font * 0.85}px system-ui, sans-serif`;
  ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  ctx.fillText("view 1", L.left + L.side / 4, L.top - 2);
  ctx.fillText("view 2", L.left + (3 * L.side) / 4, L.top - 2);
  ctx.save();
  ctx.translate(L.font * 0.75, L.top + L.side / 2); ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText("view 1", -L.side / 4, 0); ctx.fillText("view 2", L.side / 4, 0);
  ctx.restore();
}

/** The row under a point of the matrix canvas (CSS px), or null. */
export function matrixRowAt(canvas, n2, x, y) {
  const L = matrixLayout(canvas, n2);
  if (y < L.top || y >= L.top + L.side || x < 0 || x > L.left + L.side) return null;
  return Math.min(n2 - 1, Math.floor((y - L.top) / L.cell));
}

/** Scatter layout: maps coords in [−m, m]² to the canvas. */
export function scatterLayout(canvas, m) {
  const W = canvas.clientWidth, H = canvas.clientHeight, pad = plotStyle().font * 0.8;
  const side = Math.min(W, H) - 2 * pad;
  const cx = W / 2, cy = H / 2;
  const s = side / (2 * (m || 1));
  return { x: (u) => cx + u * s, y: (v) => cy - v * s };
}

/**
 * drawScatter(canvas, {coords: Float32Array (2M), labels, m, classes, selected, neighbours})
 * Points coloured by class; each class's name at the median of its points (where a cluster
 * forms, its name sits on it); the selected point and its neighbours ringed.
 */
export function drawScatter(canvas, { coords, labels, m, classes, selected = null, neighbours = [] }) {
  const { ctx } = fit(canvas);
  const style = plotStyle();
  const L = scatterLayout(canvas, m);
  const M = labels.length;
  ctx.strokeStyle = "#e3e5e8"; ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(L.x(-m), L.y(0)); ctx.lineTo(L.x(m), L.y(0));
  ctx.moveTo(L.x(0), L.y(-m)); ctx.lineTo(L.x(0), L.y(m));
  ctx.stroke();
  const r = Math.max(2, style.point * 0.8);
  ctx.globalAlpha = 0.85;
  for (let i = 0; i < M; i++) {
    ctx.fillStyle = CLASS_PALETTE[labels[i] % CLASS_PALETTE.length];
    ctx.beginPath(); ctx.arc(L.x(coords[2 * i]), L.y(coords[2 * i + 1]), r, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.globalAlpha = 1;
  const ring = (i, color, width) => {
    ctx.strokeStyle = color; ctx.lineWidth = width;
    ctx.beginPath(); ctx.arc(L.x(coords[2 * i]), L.y(coords[2 * i + 1]), r + 3, 0, 2 * Math.PI); ctx.stroke();
  };
  for (const j of neighbours) ring(j, "#111", 1.5);
  if (selected !== null) ring(selected, css(ORANGE), 3);
  // class names at their medians
  ctx.font = `700 ${style.font * 1.05}px system-ui, sans-serif`;
  ctx.textAlign = "center"; ctx.textBaseline = "middle";
  ctx.lineWidth = 3.5; ctx.strokeStyle = "rgba(255,255,255,.92)";
  for (let c = 0; c < classes.length; c++) {
    const xs = [], ys = [];
    for (let i = 0; i < M; i++) if (labels[i] === c) { xs.push(coords[2 * i]); ys.push(coords[2 * i + 1]); }
    if (!xs.length) continue;
    const med = (a) => a.sort((p, q) => p - q)[a.length >> 1];
    const x = L.x(med(xs)), y = L.y(med(ys));
    ctx.strokeText(classes[c], x, y);
    ctx.fillStyle = CLASS_PALETTE[c % CLASS_PALETTE.length];
    ctx.fillText(classes[c], x, y);
  }
}

/** The index of the point nearest to (x, y) CSS px within `radius`, or null. */
export function pointAt(canvas, coords, m, x, y, radius = 10) {
  const L = scatterLayout(canvas, m);
  let best = null, bestD = radius * radius;
  for (let i = 0; i < coords.length / 2; i++) {
    const dx = L.x(coords[2 * i]) - x, dy = L.y(coords[2 * i + 1]) - y;
    const d = dx * dx + dy * dy;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

/**
 * drawRow(canvas, {probs, index, positive, tau})
 * The chosen row's softmax at τ as bars: the positive blue (the loss pulls it up), the
 * negatives orange (pushed down, each by its own probability), the view itself left out;
 * a dashed line at the even share 1 / (2N − 1).
 */
export function drawRow(canvas, { probs, index, positive }) {
  const { ctx, W, H } = fit(canvas);
  const style = plotStyle();
  const n2 = probs.length;
  const pad = { l: style.font * 2.6, r: 6, t: style.font * 0.8, b: style.font * 1.6 };
  let top = 0;
  for (const p of probs) top = Math.max(top, p);
  top = Math.max(top, 2 / (n2 - 1), 0.02);
  const y = (p) => H - pad.b - (p / top) * (H - pad.t - pad.b);
  const bw = (W - pad.l - pad.r) / n2;
  for (let k = 0; k < n2; k++) {
    if (k === index) {
      ctx.fillStyle = "#5a5a5a";
      ctx.fillRect(pad.l + k * bw + bw * 0.1, H - pad.b - 3, Math.max(1, bw * 0.8), 3);
      continue;
    }
    ctx.fillStyle = css(k === positive ? BLUE : ORANGE);
    const x0 = pad.l + k * bw + (bw > 4 ? bw * 0.1 : 0);
    ctx.fillRect(x0, y(probs[k]), Math.max(1, bw > 4 ? bw * 0.8 : bw), H - pad.b - y(probs[k]));
  }
  ctx.strokeStyle = "#777"; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
  ctx.beginPath(); ctx.moveTo(pad.l, y(1 / (n2 - 1))); ctx.lineTo(W - pad.r, y(1 / (n2 - 1))); ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = "#bbb";
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
  ctx.fillStyle = "#444"; ctx.font = `${style.font * 0.85}px system-ui, sans-serif`;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  ctx.fillText(`${Math.round(top * 100)} %`, pad.l - 4, y(top));
  ctx.fillText("0", pad.l - 4, y(0));
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  ctx.fillText(`columns k of row ${index} (2N = ${n2} views)`, (pad.l + W) / 2, H - pad.b + 3);
}
