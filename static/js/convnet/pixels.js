// Pixel-exact drawing of the compact uint8 grids the server sends: every value one square of
// `cell` × `cell` CSS pixels (nearest neighbour, no smoothing), coloured by a lookup table.
// Signed values (filters, feature maps) use the diverging orange / grey / blue scale of
// colors.js; images use ink on paper (0 white, 1 dark).

import { diverging } from "../colors.js";
import { rawValues } from "../grid.js";

const scratch = document.createElement("canvas");
const INK = [32, 33, 36];

/** 256 × RGB for a grid quantized over a symmetric range: q = 0 → −max (orange), 255 → +max (blue). */
export const SIGNED = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let q = 0; q < 256; q++) {
    const c = diverging(q / 127.5 - 1);
    lut.set([c[0], c[1], c[2]], q * 3);
  }
  return lut;
})();

/** 256 × RGB for images over [0, 1]: paper white to ink. */
export const PAPER = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let q = 0; q < 256; q++) {
    const t = q / 255;
    for (let j = 0; j < 3; j++) lut[q * 3 + j] = 255 + (INK[j] - 255) * t;
  }
  return lut;
})();

/** Decoded grid values, cached on the grid object (frames are drawn more than once). */
export function values(grid) {
  if (!grid._q) Object.defineProperty(grid, "_q", { value: rawValues(grid), enumerable: false });
  return grid._q;
}

/** A canvas whose backing store matches its CSS size × devicePixelRatio; returns its 2-D context
 *  scaled to CSS pixels, with the size in CSS pixels. */
export function fitCanvas(canvas, width, height) {
  const dpr = window.devicePixelRatio || 1;
  const W = Math.max(1, Math.round(width ?? canvas.clientWidth));
  const H = Math.max(1, Math.round(height ?? canvas.clientHeight));
  if (canvas.width !== W * dpr || canvas.height !== H * dpr) {
    canvas.width = W * dpr;
    canvas.height = H * dpr;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  return { ctx, W, H };
}

/**
 * Draw an h × w block of quantized values q[offset …] at (x, y), `cell` CSS px per value
 * (`cellH` high, default square), with a 1 px frame so a map of zeros stands out from the page.
 */
export function drawCells(ctx, q, offset, h, w, x, y, cell, lut, frame = "#9aa0a6", cellH = cell) {
  x = Math.round(x); y = Math.round(y);
  cell = Math.max(1, Math.floor(cell)); cellH = Math.max(1, Math.floor(cellH));
  scratch.width = w; scratch.height = h;
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(w, h);
  const px = img.data;
  for (let i = 0; i < h * w; i++) {
    const v = q[offset + i] * 3;
    px[i * 4] = lut[v]; px[i * 4 + 1] = lut[v + 1]; px[i * 4 + 2] = lut[v + 2]; px[i * 4 + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, w, h, x, y, w * cell, h * cellH);
  if (frame) {
    ctx.strokeStyle = frame;
    ctx.lineWidth = 1;
    ctx.strokeRect(x - 0.5, y - 0.5, w * cell + 1, h * cellH + 1);
  }
  return { w: w * cell, h: h * cellH };
}

/** The real value a quantized entry stands for. */
export function real(grid, q) {
  const [lo, hi] = grid.range;
  return lo + (q / 255) * (hi - lo);
}

/** "0.52" style: a few significant digits. */
export function short(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 100 || a < 0.01) return v.toExponential(1);
  return String(+v.toPrecision(2));
}
