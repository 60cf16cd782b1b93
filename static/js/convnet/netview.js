// The lab's main picture: one image going through the network, as CNN Explainer draws it.
// Left to right (top to bottom on a portrait screen): the input image, every layer's feature
// maps (a first-layer convolution's filters beside the maps they make), hidden units, and the
// class probabilities. Every map is drawn pixel-exact; all maps share one tile size, so a
// 2×2 map after pooling shows large cells and the 8×8 input small ones.

import { plotStyle } from "../shell.js";
import { BLUE, ORANGE, css } from "../colors.js";
import { PAPER, SIGNED, drawCells, values } from "./pixels.js";

const GRID = "#9aa0a6";

/** The columns a frame's maps make: input, layers (no output logits), output probabilities. */
function columnsOf(maps, filters) {
  const [h, w] = maps.input.shape;
  const cols = [{ type: "input", title: "input", sub: `${h}×${w}`, grid: maps.input, n: 1, h, w }];
  for (const layer of maps.layers) {
    if (layer.name === "output") continue;
    if (layer.shape.length === 3) {
      const [n, mh, mw] = layer.shape;
      const f = layer.kind === "conv2d" ? filters?.[layer.name] : null;
      cols.push({ type: "maps", title: layer.name, sub: `${n}×${mh}×${mw}`, grid: layer.grid, n, h: mh, w: mw,
        filters: f && f.shape[1] === 1 ? f : null });
    } else {
      cols.push({ type: "vector", title: layer.name, sub: `${layer.shape[0]} units`, grid: layer.grid, n: layer.shape[0] });
    }
  }
  cols.push({ type: "output", title: "output", sub: "probability" });
  return cols;
}

/** How the class bars fit a column of height h: rows of at least 1.45 lines each, in one
 *  column, in two, or only the most likely classes (top). */
function outputShape(env, h) {
  const k = env.classes.length;
  const fit = Math.max(1, Math.floor(h / (env.font * 1.45)));
  if (fit >= k) return { columns: 1, rows: k, top: false };
  if (fit * 2 >= k) return { columns: 2, rows: Math.ceil(k / 2), top: false };
  return { columns: 1, rows: fit, top: true };
}

export class NetView {
  constructor(canvas, box) {
    this.canvas = canvas;
    this.box = box;
  }

  /**
   * A box of fixed size (an embed) gets the whole picture in it, stacked top to bottom when it
   * is portrait. A box of auto height (a page) gets a picture as tall as it needs: left to right
   * up to the box's max-height, or, without one (a phone), top to bottom.
   */
  draw({ maps, filters, classes }) {
    if (!maps) return;
    const font = plotStyle().font;
    const cols = columnsOf(maps, filters);
    const cs = getComputedStyle(this.box);
    const auto = cs.getPropertyValue("--cn-auto-height").trim() === "1";
    const W = this.box.clientWidth;
    const cap = parseFloat(cs.maxHeight);
    const H = auto ? (cap > 0 ? cap : null) : this.box.clientHeight;
    const vertical = H === null || (auto ? W < 480 : W < H * 0.95);
    const ctx0 = this.canvas.getContext("2d");
    ctx0.font = `${font}px system-ui, sans-serif`;
    const labelW = Math.max(...classes.map((c) => ctx0.measureText(c).width));
    const env = { font, labelW, classes, maps };
    if (vertical) this.drawVertical(cols, W, auto ? null : H, env);
    else this.drawHorizontal(cols, W, H, env, auto);
  }

  setSize(W, H) {
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${W}px`;
    this.canvas.style.height = `${H}px`;
    this.canvas.width = Math.round(W * dpr);
    this.canvas.height = Math.round(H * dpr);
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.textBaseline = "alphabetic";
    return ctx;
  }

  // ---- left to right ---------------------------------------------------------------------
  /** The largest tile size T at which `cols` fit side by side in W × Hrow (titles included);
   *  `ends` extra gaps hold the arrows that carry a picture split in two rows on. */
  planRow(cols, W, Hrow, env, ends = 0) {
    const { font } = env;
    const pad = 4, g = Math.max(3, Math.round(font * 0.3)), G = Math.round(font * 1.4);
    const headH = Math.round(font * 2.7);
    const Hm = Hrow - headH;
    const out = outputShape(env, Hm);
    const outW = Math.ceil(out.columns * (env.labelW + font * 6.2) + (out.columns - 1) * font);
    const inputSide = (T) => Math.min(Hm, Math.max(T * 2, font * 3, Math.min(W * 0.13, Hm * 0.45)));
    const perCol = (T) => Math.max(1, Math.floor((Hm + g) / (T + g)));
    const widths = (T) => cols.map((c) => {
      if (c.type === "input") return inputSide(T);
      if (c.type === "output") return outW;
      if (c.type === "vector") return Math.round(Math.min(Math.max(T * 0.45, font * 0.8), font * 1.8));
      const k = Math.ceil(c.n / perCol(T));
      const tw = T * (c.w / Math.max(c.h, c.w));
      const fw = c.filters ? Math.floor(T * 0.55) + g : 0;
      return k * (tw + fw) + (k - 1) * g;
    });
    // A column is at least as wide as its title and shape.
    const ctxM = this.canvas.getContext("2d");
    const textW = cols.map((c) => {
      ctxM.font = `600 ${font}px system-ui, sans-serif`;
      const a = ctxM.measureText(c.title).width;
      ctxM.font = `${font}px system-ui, sans-serif`;
      return Math.ceil(Math.max(a, ctxM.measureText(c.sub).width));
    });
    const colWidths = (T) => widths(T).map((w, i) => Math.max(w, textW[i]));
    const total = (T) => colWidths(T).reduce((a, b) => a + b, 0) + G * (cols.length - 1 + ends) + 2 * pad;
    let T = Math.max(6, Math.floor(Hm));
    while (T > 6 && total(T) > W) T -= 1;
    const inner = widths(T);
    // How tall the tallest column is at this T (a page's picture is only that tall).
    const need = cols.map((c, i) => {
      if (c.type === "input") return inner[i];
      if (c.type === "output") return font * 1.7 * env.classes.length;
      if (c.type === "vector") return Math.min(Hm, c.n * 4);
      const rows = Math.ceil(c.n / Math.ceil(c.n / perCol(T)));
      return rows * T + (rows - 1) * g;
    });
    return { T, ws: colWidths(T), inner, Hm, headH, g, G, pad, ends, total: total(T), fits: total(T) <= W,
      need: headH + Math.ceil(Math.max(...need)) };
  }

  /** One row of columns at height y; `lead` / `trail`: arrows in from or on to another row. */
  drawRow(ctx, cols, plan, y, W, env, { lead = false, trail = false } = {}) {
    const { font } = env;
    const { T, ws, inner, headH, g, G, pad } = plan;
    const Hm = plan.Hm;
    const spare = Math.max(0, W - plan.total);
    const gap = G + Math.min(font * 3, spare / Math.max(1, cols.length - 1 + plan.ends));
    const used = ws.reduce((a, b) => a + b, 0) + gap * (cols.length - 1 + plan.ends);
    let x = Math.max(pad, (W - used) / 2);
    if (lead) { this.arrow(ctx, x + gap / 2, y + headH + Hm / 2, font); x += gap; }
    cols.forEach((c, i) => {
      const cw = ws[i], iw = inner[i], ix = x + (cw - iw) / 2;
      this.header(ctx, c, x + cw / 2, y, font);
      const top = y + headH;
      if (c.type === "input") this.input(ctx, c, ix, top + (Hm - iw) / 2, iw);
      else if (c.type === "output") this.output(ctx, env, ix, top, iw, Hm, false);
      else if (c.type === "vector") this.vector(ctx, c, ix, top, iw, Hm);
      else this.mapGrid(ctx, c, ix, top, T, g, Hm, "columns");
      if (i < cols.length - 1 || trail) this.arrow(ctx, x + cw + gap / 2, top + Hm / 2, font);
      x += cw + gap;
    });
  }

  /** One row, or two when that makes the maps clearly larger (a short, narrow box). */
  drawHorizontal(cols, W, H, env, fit) {
    const one = this.planRow(cols, W, H - 4, env);
    let rows = [[cols, one]];
    if (!fit && cols.length >= 4) {
      const rowH = (H - env.font) / 2;
      for (let s = 2; s <= cols.length - 2; s++) {
        const a = this.planRow(cols.slice(0, s), W, rowH, env, 1);
        const b = this.planRow(cols.slice(s), W, rowH, env, 1);
        const T = a.fits && b.fits ? Math.min(a.T, b.T) : 0;
        const bestT = rows.length === 1 ? (one.fits ? one.T : 0) * 1.15 : Math.min(rows[0][1].T, rows[1][1].T);
        if (T > bestT) rows = [[cols.slice(0, s), a], [cols.slice(s), b]];
      }
    }
    if (fit) {  // a page: as tall as the tallest column needs
      one.Hm = one.need - one.headH;
      H = one.need + 4;
    }
    const ctx = this.setSize(W, H);
    if (rows.length === 1) {
      this.drawRow(ctx, cols, one, 0, W, env);
    } else {
      const rowH = (H - env.font) / 2;
      this.drawRow(ctx, rows[0][0], rows[0][1], 0, W, env, { trail: true });
      this.drawRow(ctx, rows[1][0], rows[1][1], rowH + env.font, W, env, { lead: true });
    }
  }

  // ---- top to bottom ---------------------------------------------------------------------
  drawVertical(cols, W, H, env) {
    const { font } = env;
    const pad = 4, g = Math.max(3, Math.round(font * 0.3)), G = Math.round(font * 0.9);
    const headH = Math.round(font * 1.5);
    const Wm = W - 2 * pad;
    const outH = Math.round(font * 5.5);
    const heights = (T) => cols.map((c) => {
      if (c.type === "input") return headH + Math.min(Wm * 0.4, Math.max(T * 2, font * 3));
      if (c.type === "output") return headH + outH;
      if (c.type === "vector") return headH + Math.round(Math.min(Math.max(T * 0.45, font * 0.8), font * 1.8));
      const tw = T * (c.w / Math.max(c.h, c.w)) + (c.filters ? Math.floor(T * 0.55) + g : 0);
      const per = Math.max(1, Math.floor((Wm + g) / (tw + g)));
      const rows = Math.ceil(c.n / per);
      return headH + rows * T + (rows - 1) * g;
    });
    const total = (T) => heights(T).reduce((a, b) => a + b, 0) + G * (cols.length - 1) + 2 * pad;
    let T;
    if (H === null) {  // a phone page: maps large enough to read, the widest layer in two rows
      const widest = Math.max(...cols.filter((c) => c.type === "maps").map((c) => c.n), 1);
      T = Math.max(12, Math.min(Math.round(font * 4), Math.floor((Wm + g) / Math.ceil(widest / 2) - g)));
      H = Math.ceil(total(T));
    } else {
      T = Math.max(6, Math.floor(Wm / 2));
      while (T > 6 && total(T) > H) T -= 1;
    }
    const hs = heights(T);
    const ctx = this.setSize(W, H);
    let y = pad;
    cols.forEach((c, i) => {
      ctx.fillStyle = "#222";
      ctx.textAlign = "left";
      ctx.font = `600 ${font}px system-ui, sans-serif`;
      ctx.fillText(c.title, pad, y + font);
      const tw = ctx.measureText(c.title).width;
      ctx.font = `${font}px system-ui, sans-serif`;
      ctx.fillStyle = "#5f6368";
      ctx.fillText(c.sub, pad + tw + font * 0.5, y + font);
      const top = y + headH, bh = hs[i] - headH;
      if (c.type === "input") this.input(ctx, c, pad, top, bh);
      else if (c.type === "output") this.output(ctx, env, pad, top, Wm, bh, true);
      else if (c.type === "vector") this.vectorRow(ctx, c, pad, top, Wm, bh);
      else this.mapGrid(ctx, c, pad, top, T, g, Wm, "rows");
      y += hs[i] + G;
    });
  }

  // ---- parts -------------------------------------------------------------------------------
  header(ctx, c, cx, y, font) {
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = "#222";
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    ctx.fillText(c.title, cx, y + font * 1.05);
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.fillStyle = "#5f6368";
    ctx.fillText(c.sub, cx, y + font * 2.25);
  }

  arrow(ctx, x, y, font) {
    ctx.strokeStyle = "#bdc1c6";
    ctx.lineWidth = 2;
    const s = font * 0.35;
    ctx.beginPath();
    ctx.moveTo(x - s / 2, y - s); ctx.lineTo(x + s / 2, y); ctx.lineTo(x - s / 2, y + s);
    ctx.stroke();
  }

  input(ctx, c, x, y, size) {
    const cell = Math.floor(size / Math.max(c.h, c.w));
    drawCells(ctx, values(c.grid), 0, c.h, c.w, x + (size - cell * c.w) / 2, y + (size - cell * c.h) / 2,
      cell, PAPER, GRID);
  }

  /** n maps (and their filters) in a grid: "columns" fills top to bottom, then the next column. */
  mapGrid(ctx, c, x, y, T, g, span, flow) {
    const q = values(c.grid);
    const side = Math.max(c.h, c.w);
    const cell = Math.max(1, Math.floor(T / side));
    const mh = cell * c.h;
    const ft = c.filters ? Math.floor(T * 0.55) : 0;
    const unitW = T * (c.w / side) + (ft ? ft + g : 0);
    let per, rows;
    if (flow === "columns") {
      per = Math.max(1, Math.floor((span + g) / (T + g)));
      rows = Math.min(per, Math.ceil(c.n / Math.ceil(c.n / per)));
    } else {
      per = Math.max(1, Math.floor((span + g) / (unitW + g)));
    }
    const fq = c.filters ? values(c.filters) : null;
    const [, , kh, kw] = c.filters ? c.filters.shape : [0, 0, 0, 0];
    const fcell = ft ? Math.max(1, Math.floor(ft / Math.max(kh, kw))) : 0;
    const blockH = flow === "columns" ? rows * T + (rows - 1) * g : 0;
    const y0 = flow === "columns" ? y + Math.max(0, (span - blockH) / 2) : y;
    for (let k = 0; k < c.n; k++) {
      const col = flow === "columns" ? Math.floor(k / rows) : k % per;
      const row = flow === "columns" ? k % rows : Math.floor(k / per);
      let px = x + col * (unitW + g);
      const py = y0 + row * (T + g);
      if (fq) {
        drawCells(ctx, fq, k * kh * kw, kh, kw, px, py + (T - fcell * kh) / 2, fcell, SIGNED, GRID);
        px += ft + g;
      }
      drawCells(ctx, q, k * c.h * c.w, c.h, c.w, px, py + (T - mh) / 2, cell, SIGNED, GRID);
    }
  }

  vector(ctx, c, x, y, w, h) {
    const cellH = Math.max(1, Math.floor(h / c.n));
    drawCells(ctx, values(c.grid), 0, c.n, 1, x, y + (h - cellH * c.n) / 2, w, SIGNED, GRID, cellH);
  }

  vectorRow(ctx, c, x, y, w, h) {
    const cellW = Math.max(1, Math.floor(w / c.n));
    drawCells(ctx, values(c.grid), 0, 1, c.n, x, y, cellW, SIGNED, GRID, h);
  }

  /** Class probabilities as bars: the prediction blue when right, orange when wrong. */
  output(ctx, env, x, y, w, h, vertical) {
    const { font, classes, maps } = env;
    const probs = maps.probs || [];
    const truth = maps.label;
    const pred = maps.prediction;
    const barColor = (k) => (k !== pred ? "#c6dafc" : truth === undefined || truth === pred ? css(BLUE) : css(ORANGE));
    ctx.font = `${font}px system-ui, sans-serif`;
    if (!vertical) {
      // One column of classes, two when the column is short, or the most likely few.
      const shape = outputShape(env, h);
      const order = shape.top ? [...classes.keys()].sort((a, b) => (probs[b] ?? 0) - (probs[a] ?? 0)).slice(0, shape.rows)
        : [...classes.keys()];
      const rowH = Math.min(font * 1.7, h / shape.rows);
      const top = y + (h - rowH * shape.rows) / 2;
      const colW = (w - (shape.columns - 1) * font) / shape.columns;
      const barW = colW - env.labelW - font * 3.4;
      order.forEach((k, i) => {
        const name = classes[k];
        const lx = x + Math.floor(i / shape.rows) * (colW + font) + env.labelW;
        const cy = top + rowH * (i % shape.rows) + rowH / 2;
        const p = probs[k] ?? 0;
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        ctx.fillStyle = k === truth ? "#111" : "#5f6368";
        ctx.font = `${k === truth ? 700 : 400} ${font}px system-ui, sans-serif`;
        ctx.fillText(name, lx, cy);
        ctx.fillStyle = "#f1f3f4";
        ctx.fillRect(lx + font * 0.3, cy - rowH * 0.32, barW, rowH * 0.64);
        ctx.fillStyle = barColor(k);
        ctx.fillRect(lx + font * 0.3, cy - rowH * 0.32, barW * p, rowH * 0.64);
        ctx.textAlign = "left";
        ctx.fillStyle = "#222";
        ctx.font = `${k === pred ? 700 : 400} ${font}px system-ui, sans-serif`;
        ctx.fillText(`${Math.round(100 * p)}%`, lx + font * 0.5 + barW, cy);
      });
    } else {
      const n = classes.length;
      const colW = w / n;
      const barH = h - font * 2.6;
      classes.forEach((name, k) => {
        const cx = x + colW * k + colW / 2;
        const p = probs[k] ?? 0;
        ctx.fillStyle = "#f1f3f4";
        ctx.fillRect(cx - colW * 0.3, y + font * 1.2, colW * 0.6, barH);
        ctx.fillStyle = barColor(k);
        ctx.fillRect(cx - colW * 0.3, y + font * 1.2 + barH * (1 - p), colW * 0.6, barH * p);
        ctx.textAlign = "center";
        ctx.textBaseline = "alphabetic";
        ctx.fillStyle = "#222";
        ctx.font = `${k === pred ? 700 : 400} ${font}px system-ui, sans-serif`;
        ctx.fillText(`${Math.round(100 * p)}`, cx, y + font);
        ctx.fillStyle = k === truth ? "#111" : "#5f6368";
        ctx.font = `${k === truth ? 700 : 400} ${font}px system-ui, sans-serif`;
        const label = ctx.measureText(name).width > colW * 0.95 ? name.slice(0, 3) : name;
        ctx.fillText(label, cx, y + font * 2.3 + barH);
      });
    }
    ctx.textBaseline = "alphabetic";
  }
}
