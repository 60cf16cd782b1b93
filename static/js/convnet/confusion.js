// The confusion matrix of the test set: rows are the true class, columns the predicted one.
// A cell's colour is its share of the row (the true class's images): blue on the diagonal
// (right), orange off it (mistakes), so a learning network's matrix turns from a spread of
// orange into a blue diagonal. Click a cell to choose it.

import { plotStyle } from "../shell.js";
import { BLUE, ORANGE, css } from "../colors.js";
import { fitCanvas } from "./pixels.js";

/** White mixed towards `colour` by t ∈ [0, 1]. */
function tint(colour, t) {
  const s = Math.min(1, Math.max(0, t)) * 0.95;
  return colour.map((c) => 255 + (c - 255) * s);
}

export class ConfusionMatrix {
  constructor(canvas, onPick) {
    this.canvas = canvas;
    this.geom = null;
    this.selected = null; // [true, predicted]
    canvas.addEventListener("click", (ev) => {
      const cell = this.cellAt(ev.offsetX, ev.offsetY);
      if (cell) onPick(cell);
    });
  }

  /** The [true, predicted] cell under a point in CSS pixels, or null. */
  cellAt(x, y) {
    const g = this.geom;
    if (!g) return null;
    const c = Math.floor((x - g.x0) / g.cell), r = Math.floor((y - g.y0) / g.cell);
    return r >= 0 && c >= 0 && r < g.k && c < g.k ? [r, c] : null;
  }

  /** Where cell [t, p] is drawn (CSS px, centre), for tests and tips. */
  cellCentre(t, p) {
    const g = this.geom;
    return g ? { x: g.x0 + (p + 0.5) * g.cell, y: g.y0 + (t + 0.5) * g.cell } : null;
  }

  draw(matrix, classes) {
    if (!matrix) return;
    const font = plotStyle().font;
    const k = classes.length;
    const W = this.canvas.clientWidth;
    const ctx0 = this.canvas.getContext("2d");
    ctx0.font = `${font}px system-ui, sans-serif`;
    const labelW = Math.max(...classes.map((c) => ctx0.measureText(c).width)) + font * 0.6;
    const axis = font * 1.4;
    const x0 = axis + labelW;
    const cell = Math.max(font * 1.3, Math.floor((W - x0 - 4) / k));
    const y0 = axis + font * 1.4;
    const H = y0 + cell * k + 4;
    this.canvas.style.height = `${H}px`;
    const { ctx } = fitCanvas(this.canvas, W, H);
    this.geom = { x0, y0, cell, k };
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.fillStyle = "#5f6368";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("predicted →", x0 + (cell * k) / 2, axis / 2);
    classes.forEach((name, j) => {
      const short = ctx.measureText(name).width > cell * 0.95 ? name.slice(0, 2) : name;
      ctx.fillText(short, x0 + (j + 0.5) * cell, axis + font * 0.7);
    });
    ctx.save();
    ctx.translate(axis / 2, y0 + (cell * k) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("true →", 0, 0);
    ctx.restore();
    ctx.textAlign = "right";
    classes.forEach((name, i) => ctx.fillText(name, x0 - font * 0.3, y0 + (i + 0.5) * cell));
    const numberFont = Math.min(font, Math.floor(cell * 0.5));
    for (let i = 0; i < k; i++) {
      const row = matrix[i];
      const n = row.reduce((a, b) => a + b, 0) || 1;
      for (let j = 0; j < k; j++) {
        const v = row[j];
        const share = v / n;
        // Mistakes show from a few per cent on: even one confusion in a row is visible.
        const colour = i === j ? tint(BLUE, share) : tint(ORANGE, v ? 0.15 + share * 2 : 0);
        ctx.fillStyle = css(colour);
        ctx.fillRect(x0 + j * cell, y0 + i * cell, cell - 1, cell - 1);
        if (v) {
          ctx.fillStyle = i === j && share > 0.55 ? "#fff" : "#222";
          ctx.textAlign = "center";
          ctx.font = `${numberFont}px system-ui, sans-serif`;
          ctx.fillText(String(v), x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell);
        }
      }
    }
    if (this.selected) {
      const [t, p] = this.selected;
      ctx.strokeStyle = "#183153";
      ctx.lineWidth = 3;
      ctx.strokeRect(x0 + p * cell + 0.5, y0 + t * cell + 0.5, cell - 2, cell - 2);
    }
  }
}
