// A strip of test images (those of a confusion cell, or every mistake), each with the class the
// network gives it: blue when right, orange when wrong. Click an image to trace it.

import { plotStyle } from "../shell.js";
import { BLUE, ORANGE, css } from "../colors.js";
import { PAPER, drawCells, fitCanvas, values } from "./pixels.js";

export class ImageStrip {
  constructor(canvas, onPick) {
    this.canvas = canvas;
    this.items = [];
    this.geom = null;
    this.chosen = null;
    canvas.addEventListener("click", (ev) => {
      const i = this.indexAt(ev.offsetX, ev.offsetY);
      if (i !== null) onPick(i);
    });
  }

  indexAt(x, y) {
    const g = this.geom;
    if (!g) return null;
    const c = Math.floor(x / g.step), r = Math.floor(y / g.rowH);
    const k = r * g.per + c;
    return c < g.per && k >= 0 && k < this.items.length ? this.items[k] : null;
  }

  /** Where the image of test index `i` is drawn (CSS px, centre), or null. */
  centreOf(i) {
    const k = this.items.indexOf(i), g = this.geom;
    if (k < 0 || !g) return null;
    return { x: (k % g.per) * g.step + g.tile / 2, y: Math.floor(k / g.per) * g.rowH + g.tile / 2 };
  }

  /** images: the test set's grid (N, H, W); items: test indices; predicted: class per test image. */
  draw({ images, items, predicted, labels, classes }) {
    this.items = items;
    const font = plotStyle().font;
    const [, h, w] = images.shape;
    const cell = Math.max(2, Math.round((font * 2.3) / Math.max(h, w)));
    const tile = cell * Math.max(h, w);
    const step = tile + Math.round(font * 0.5);
    const rowH = tile + Math.round(font * 1.3);
    const W = Math.max(step, this.canvas.parentElement.clientWidth - 2);
    const per = Math.max(1, Math.floor(W / step));
    const rows = Math.ceil(items.length / per);
    const H = Math.max(rowH, rows * rowH);
    this.canvas.style.width = `${W}px`;
    this.canvas.style.height = `${H}px`;
    const { ctx } = fitCanvas(this.canvas, W, H);
    this.geom = { step, rowH, per, tile };
    const q = values(images);
    ctx.font = `${Math.round(font * 0.9)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    items.forEach((i, k) => {
      const x = (k % per) * step, y = Math.floor(k / per) * rowH;
      drawCells(ctx, q, i * h * w, h, w, x + 1, y + 1, cell, PAPER, i === this.chosen ? "#183153" : "#9aa0a6");
      if (i === this.chosen) {
        ctx.strokeStyle = "#183153";
        ctx.lineWidth = 2;
        ctx.strokeRect(x - 1, y - 1, tile + 4, tile + 4);
      }
      const p = predicted?.[i];
      if (p !== undefined) {
        ctx.fillStyle = css(p === labels[i] ? BLUE : ORANGE);
        const name = (c) => (classes[c].length > 2 ? classes[c][0].toUpperCase() : classes[c]);
        ctx.fillText(`${name(labels[i])}→${name(p)}`, x + tile / 2 + 1, y + tile + 3);
      }
    });
  }
}
