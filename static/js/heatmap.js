// Drawing a quantized grid onto a canvas with the diverging colours (or class colours).

import { rawValues } from "./grid.js";
import { CLASS_COLORS, GREY, divergingLUT } from "./colors.js";

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
