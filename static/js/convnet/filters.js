// Every conv layer's filters, now or at step 0. A layer reading one channel (the first, on
// grey images) shows each filter as a tile, a link that opens it in the convolution lab on a
// photo; deeper layers show a grid: one row per input channel, one column per filter.

import { plotStyle } from "../shell.js";
import { SIGNED, drawCells, fitCanvas, real, short, values } from "./pixels.js";

const PHOTO = "camera"; // a grey photo the convolution lab ships

/** Filter `k` of a one-channel grid in the convolution lab's "kernels on images" part, on a
 *  photo: /labs/convolution?section=images&image=camera&kname=custom&custom=[[…],[…],[…]]. */
export function kernelLink(grid, k) {
  const [, , kh, kw] = grid.shape;
  const q = values(grid);
  const rows = [];
  for (let i = 0; i < kh; i++) {
    const row = [];
    for (let j = 0; j < kw; j++) row.push(+real(grid, q[(k * kh + i) * kw + j]).toPrecision(3));
    rows.push(row);
  }
  const custom = encodeURIComponent(JSON.stringify(rows));
  return `/labs/convolution?section=images&image=${PHOTO}&kname=custom&custom=${custom}`;
}

export class FilterPanel {
  constructor(root) {
    this.root = root;
    this.key = "";
    this.parts = [];
  }

  /** (Re)build the layer blocks for this set of layers ({name: grid (D, C, kh, kw)}). */
  build(grids) {
    const key = JSON.stringify(Object.entries(grids).map(([n, g]) => [n, g.shape]));
    if (key === this.key) return;
    this.key = key;
    this.parts = Object.entries(grids).map(([name, g]) => {
      const [D, C, kh, kw] = g.shape;
      const block = document.createElement("div");
      block.className = "cn-fl";
      block.dataset.layer = name;
      const title = document.createElement("h3");
      title.innerHTML = `<b>${name}</b> · ${D} filter${D > 1 ? "s" : ""} ${kh}×${kw}` +
        (C > 1 ? ` on ${C} channels <span class="muted">(rows: channel in, columns: filter)</span>` : "");
      const range = document.createElement("span");
      range.className = "cn-fl-range muted";
      title.append(" ", range);
      block.append(title);
      const part = { name, block, range, tiles: [], canvas: null };
      if (C === 1) {
        const row = document.createElement("div");
        row.className = "cn-fl-tiles";
        for (let k = 0; k < D; k++) {
          const a = document.createElement("a");
          a.className = "cn-fl-tile";
          a.target = "_blank";
          a.rel = "noopener";
          a.title = `Apply filter ${k + 1} of ${name} to a photo (convolution lab)`;
          const c = document.createElement("canvas");
          c.setAttribute("aria-label", `${name} filter ${k + 1}`);
          const n = document.createElement("span");
          n.textContent = String(k + 1);
          a.append(c, n);
          row.append(a);
          part.tiles.push({ a, canvas: c });
        }
        block.append(row);
      } else {
        part.canvas = document.createElement("canvas");
        part.canvas.className = "cn-fl-grid";
        part.canvas.setAttribute("aria-label", `${name}: ${D} filters × ${C} input channels`);
        block.append(part.canvas);
      }
      return part;
    });
    if (!this.parts.length) {
      const p = document.createElement("p");
      p.className = "cn-none";
      p.textContent = "This network has no convolution layer: no filter slides over the image, every weight " +
        "of the first dense layer belongs to one pixel.";
      this.root.replaceChildren(p);
      return;
    }
    this.root.replaceChildren(...this.parts.map((p) => p.block));
  }

  draw(grids) {
    this.build(grids);
    const font = plotStyle().font;
    for (const part of this.parts) {
      const g = grids[part.name];
      if (!g) continue;
      const [D, C, kh, kw] = g.shape;
      const q = values(g);
      part.range.textContent = `±${short(g.range[1])}`;
      if (C === 1) {
        const cell = Math.max(4, Math.round(font * 3.1 / Math.max(kh, kw)));
        part.tiles.forEach(({ a, canvas }, k) => {
          const { ctx } = fitCanvas(canvas, cell * kw + 2, cell * kh + 2);
          canvas.style.width = `${cell * kw + 2}px`;
          canvas.style.height = `${cell * kh + 2}px`;
          drawCells(ctx, q, k * kh * kw, kh, kw, 1, 1, cell, SIGNED);
          a.href = kernelLink(g, k);
        });
      } else {
        const avail = Math.max(120, part.block.clientWidth - font * 2.2);
        const cell = Math.max(2, Math.min(Math.round(font * 0.8), Math.floor(avail / (D * (kw + 0.5)))));
        const gap = Math.max(2, Math.round(cell * 0.5));
        const lab = Math.round(font * 1.6);
        const W = lab + D * (kw * cell + gap), H = lab + C * (kh * cell + gap);
        part.canvas.style.width = `${W}px`;
        part.canvas.style.height = `${H}px`;
        const { ctx } = fitCanvas(part.canvas, W, H);
        ctx.font = `${Math.round(font * 0.85)}px system-ui, sans-serif`;
        ctx.fillStyle = "#5f6368";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        for (let d = 0; d < D; d++) {
          if (D <= 16 || d % 2 === 0) ctx.fillText(String(d + 1), lab + d * (kw * cell + gap) + kw * cell / 2, lab / 2);
        }
        ctx.textAlign = "right";
        for (let c = 0; c < C; c++) ctx.fillText(String(c + 1), lab - 4, lab + c * (kh * cell + gap) + kh * cell / 2);
        for (let d = 0; d < D; d++) {
          for (let c = 0; c < C; c++) {
            drawCells(ctx, q, (d * C + c) * kh * kw, kh, kw, lab + d * (kw * cell + gap),
              lab + c * (kh * cell + gap), cell, SIGNED);
          }
        }
      }
    }
  }
}
