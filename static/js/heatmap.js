// Drawing a quantized grid onto a canvas with the diverging colours (or class colours).

import { rawValues } from "./grid.js";
import { BLUE, CLASS_COLORS, GREY, ORANGE, divergingLUT } from "./colors.js";

const scratch = document.createElement("canvas");

function blit(canvas, w, h, fill) {
  scratch.width = w; scratch.height = h;
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(w, h);
  fill(img.data);
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/**
 * Draw an encoded grid (uint8, shape [h, w] or one slice of [n, h, w]) on `canvas`.
 * Options: scale (value shown at full colour, default 1), discretize (sign only),
 * index (slice of a stacked grid).
 */
export function drawHeatmap(canvas, grid, { scale = 1, discretize = false, index = 0 } = {}) {
  const q = rawValues(grid);
  const [h, w] = grid.shape.slice(-2);
  const off = index * h * w;
  const lut = divergingLUT(grid.range[0], grid.range[1], scale, discretize ? 1 : 0);
  blit(canvas, w, h, (px) => {
    for (let i = 0; i < h * w; i++) {
      const v = q[off + i];
      px[i * 4] = lut[v * 3]; px[i * 4 + 1] = lut[v * 3 + 1]; px[i * 4 + 2] = lut[v * 3 + 2];
      px[i * 4 + 3] = 255;
    }
  });
}

/**
 * The sign of an encoded grid (uint8, one [h, w] map) at `size` × `size` pixels: the grid is
 * interpolated between its points before the sign is taken, so the boundary is a smooth curve
 * at display resolution instead of the grid's blocks. Values within half a step of 0 are grey.
 */
export function drawSignAt(canvas, grid, size) {
  const q = rawValues(grid);
  const [h, w] = grid.shape;
  const [lo, hi] = grid.range;
  const zero = 0.51 * (hi - lo) / 255;
  const N = Math.max(1, Math.round(size));
  canvas.width = N; canvas.height = N;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(N, N);
  const value = (r, c) => lo + (q[r * w + c] / 255) * (hi - lo);
  for (let y = 0; y < N; y++) {
    // grid cell centres sit at (i + 0.5) / w of the plot, as drawImage of the w × h map puts them
    const gy = Math.min(h - 1, Math.max(0, ((y + 0.5) / N) * h - 0.5));
    const r = Math.min(h - 2, Math.floor(gy)), fy = gy - r;
    for (let x = 0; x < N; x++) {
      const gx = Math.min(w - 1, Math.max(0, ((x + 0.5) / N) * w - 0.5));
      const c = Math.min(w - 2, Math.floor(gx)), fx = gx - c;
      const v = (value(r, c) * (1 - fx) + value(r, c + 1) * fx) * (1 - fy) +
        (value(r + 1, c) * (1 - fx) + value(r + 1, c + 1) * fx) * fy;
      const col = v > zero ? BLUE : v < -zero ? ORANGE : GREY;
      const k = 4 * (y * N + x);
      img.data[k] = col[0]; img.data[k + 1] = col[1]; img.data[k + 2] = col[2]; img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Draw class predictions (uint8 class per cell) shaded by confidence (uint8 over [0, 1]). */
export function drawClasses(canvas, classes, confidence, { discretize = false, k = 3 } = {}) {
  const c = rawValues(classes);
  const p = rawValues(confidence);
  const [h, w] = classes.shape;
  blit(canvas, w, h, (px) => {
    for (let i = 0; i < h * w; i++) {
      const col = CLASS_COLORS[c[i] % CLASS_COLORS.length];
      // Confidence 1/k (a guess) shows grey, certainty full colour.
      const t = discretize ? 0.85 : Math.max(0, Math.min(1, (p[i] / 255 - 1 / k) / (1 - 1 / k)));
      for (let j = 0; j < 3; j++) px[i * 4 + j] = GREY[j] + (col[j] - GREY[j]) * t;
      px[i * 4 + 3] = 255;
    }
  });
}
