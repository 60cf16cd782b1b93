// Small drawing helpers the depth lab's canvases share: sizing to the element, number formats
// with powers of ten, log-scale ranges, axes and legends. Sizes follow shell.js plotStyle().

import { plotStyle } from "../shell.js";

const SUP = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** The canvas sized to its CSS box at the device's pixel ratio; drawing in CSS pixels. */
export function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const W = Math.max(1, canvas.clientWidth), H = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.reset?.(); // a canvas keeps its state (alignment, dashes, alpha) from the last drawing
  Object.assign(ctx, { textAlign: "left", textBaseline: "alphabetic", globalAlpha: 1, lineWidth: 1 });
  ctx.setLineDash([]);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const style = plotStyle();
  ctx.font = `${style.font}px system-ui, sans-serif`;
  return { ctx, W, H, style };
}

/** "⁻¹⁸" for -18. */
export function superscript(n) {
  return String(n).split("").map((c) => SUP[c] ?? c).join("");
}

export function finite(v) {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** 0.25, 3.2×10⁻¹⁸, 10⁶: short and readable from the back of a lecture hall. */
export function fmt(v, digits = 2) {
  if (!finite(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(+v.toPrecision(digits + 1));
  const e = Math.floor(Math.log10(a));
  const m = +(v / 10 ** e).toPrecision(digits);
  return m === 1 ? `10${superscript(e)}` : m === -1 ? `−10${superscript(e)}` : `${m}×10${superscript(e)}`;
}

/** 10ⁿ for a whole exponent n. */
export function pow10(n) {
  return `10${superscript(n)}`;
}

/** Whole log₁₀ bounds covering the finite positive values (at least `span` decades). */
export function logBounds(values, span = 2) {
  const logs = values.filter((v) => finite(v) && v > 0).map(Math.log10);
  if (!logs.length) return [-3, 0];
  let lo = Math.floor(Math.min(...logs)), hi = Math.ceil(Math.max(...logs));
  if (hi - lo < span) { lo = Math.min(lo, hi - span); }
  return [lo, hi];
}

/** Tick exponents between lo and hi: every decade, or every k-th when there are many. */
export function logTicks(lo, hi, most = 7) {
  const k = Math.max(1, Math.ceil((hi - lo) / most));
  const out = [];
  for (let e = Math.ceil(lo / k) * k; e <= hi; e += k) out.push(e);
  return out;
}

/** Text with a white halo, readable over bars and lines. */
export function label(ctx, text, x, y, { align = "left", baseline = "alphabetic", color = "#222", bold = false,
  font } = {}) {
  ctx.save();
  if (font || bold) ctx.font = `${bold ? "600 " : ""}${font ?? parseFloat(ctx.font)}px system-ui, sans-serif`;
  ctx.textAlign = align; ctx.textBaseline = baseline;
  ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.9)"; ctx.lineJoin = "round";
  ctx.strokeText(text, x, y);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
  ctx.restore();
}

/** The first of `texts` that fits in `width` px with the context's font (else the last). */
export function fitting(ctx, texts, width) {
  return texts.find((t) => ctx.measureText(t).width <= width) ?? texts[texts.length - 1];
}

/** A row of legend entries [{color, text, dash}] from (x, y); returns the y below it. */
export function legend(ctx, items, x, y, maxWidth, font) {
  const sw = font * 1.4, gap = font * 0.9;
  let cx = x, cy = y;
  ctx.save();
  ctx.textBaseline = "middle";
  for (const it of items) {
    const w = sw + 6 + ctx.measureText(it.text).width;
    if (cx > x && cx + w > x + maxWidth) { cx = x; cy += font * 1.35; }
    ctx.strokeStyle = it.color; ctx.fillStyle = it.color; ctx.lineWidth = 3;
    ctx.setLineDash(it.dash || []);
    if (it.box) ctx.fillRect(cx, cy - font * 0.4, sw, font * 0.8);
    else { ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(cx + sw, cy); ctx.stroke(); }
    ctx.setLineDash([]);
    ctx.fillStyle = "#222";
    ctx.fillText(it.text, cx + sw + 6, cy);
    cx += w + gap;
  }
  ctx.restore();
  return cy + font * 0.9;
}

/** Draw a y axis on a log scale in [x0, y0]–[x1, y1], exponents lo…hi; returns y(v). */
export function logAxis(ctx, box, lo, hi, style, { grid = true } = {}) {
  const { x0, y0, x1, y1 } = box;
  const y = (v) => y1 - ((Math.log10(v) - lo) / (hi - lo || 1)) * (y1 - y0);
  ctx.save();
  ctx.strokeStyle = "#bbb"; ctx.lineWidth = style.gridLine;
  ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x0, y1); ctx.lineTo(x1, y1); ctx.stroke();
  ctx.fillStyle = "#444"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
  const most = Math.max(2, Math.min(7, Math.floor((y1 - y0) / (style.font * 1.5))));
  for (const e of logTicks(lo, hi, most)) {
    const ty = y1 - ((e - lo) / (hi - lo || 1)) * (y1 - y0);
    ctx.fillText(pow10(e), x0 - 4, ty);
    if (grid) {
      ctx.strokeStyle = "#eceff1";
      ctx.beginPath(); ctx.moveTo(x0 + 1, ty); ctx.lineTo(x1, ty); ctx.stroke();
    }
  }
  ctx.restore();
  return y;
}
