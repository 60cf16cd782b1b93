// A scaling plot on a canvas: points (with min–max whiskers over seeds) in series, on log or
// linear axes, with a fitted power law (dashed), its floor (dotted), a vertical marker (the
// interpolation threshold) and a legend drawn in the picture (so a PNG export keeps it).
// Sizes follow the canvas's CSS size and the page's plot style (larger in presenter mode).

import { plotStyle } from "../shell.js";

const INK = "#222";
const GRID = "#e3e6e8";
const FIT = "#183153";
const MARK = "rgb(245,147,34)"; // orange: the threshold, and a student's own points

function logTicks(lo, hi) {
  // Powers of ten inside [lo, hi]; with fewer than two, add 2× and 5× steps.
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push({ v, major: m === 1 });
    }
  }
  const majors = out.filter((t) => t.major);
  if (majors.length >= 3) return majors;
  return out.length > 8 ? out.filter((t, i) => t.major || i % 2 === 0) : out;
}

function linTicks(lo, hi, count = 5) {
  const span = hi - lo || 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => span / s <= count) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) out.push({ v: +v.toFixed(10), major: true });
  return out;
}

/** "12k", "3.5M", "0.02": short numbers for tick labels. */
export function short(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(4)}`;
  if (a === 0) return "0";
  return `${+v.toPrecision(2)}`;
}

/**
 * drawPlot(canvas, {series: [{label, color, points: [{x, y, lo, hi, ring}], line, dash}],
 *   fit: {a, alpha, floor, x_min, x_max} | null, fitLabel, xLog, yLog, xLabel (or a list, longest
 *   first: the first that fits is drawn), yLabel,
 *   yFormat(v) → text, vline: {x, label} | null, note})
 * The legend goes to the corner where it hides the fewest points and lines.
 * Returns the number of points drawn (a test reads it).
 */
export function drawPlot(canvas, opts) {
  const { series = [], fit = null, xLog = true, yLog = true, xLabel = "", yLabel = "",
    yFormat = short, vline = null, fitLabel = "", note = "", legendAbove = false } = opts;
  const style = plotStyle();
  const font = style.font;
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 600, H = canvas.clientHeight || 400;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.font = `${font}px system-ui, sans-serif`;

  const pts = series.flatMap((s) => s.points).filter((p) => isFinite(p.x) && isFinite(p.y) &&
    (!xLog || p.x > 0) && (!yLog || p.y > 0));
  let [xlo, xhi] = pts.length ? [Math.min(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.x))] : [1, 100];
  let ys = pts.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]).filter((v) => isFinite(v) && (!yLog || v > 0));
  if (fit && fit.floor > 0) ys.push(fit.floor);
  let [ylo, yhi] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [yLog ? 0.01 : 0, 1];
  if (vline) { xlo = Math.min(xlo, vline.x); xhi = Math.max(xhi, vline.x); }
  if (xLog) { xlo /= 1.35; xhi *= 1.35; } else { const m = (xhi - xlo || 1) * 0.05; xlo -= m; xhi += m; }
  if (yLog) { ylo /= 1.5; yhi *= 1.5; } else { ylo = Math.min(0, ylo); yhi = yhi + (yhi - ylo || 1) * 0.08; }
  if (xhi <= xlo) xhi = xlo * 10;
  if (yhi <= ylo) yhi = ylo * 10 || 1;

  const tx = (v) => (xLog ? Math.log10(v) : v);
  const ty = (v) => (yLog ? Math.log10(v) : v);
  const yTicks = yLog ? logTicks(ylo, yhi) : linTicks(ylo, yhi);
  const yLabels = yTicks.map((t) => yFormat(t.v));
  const left = Math.max(font * 3, ...yLabels.map((s) => ctx.measureText(s).width)) + font * 1.9;
  const pad = { l: left, r: font * 0.9, t: font * 0.9, b: font * 3.1 };
  // The legend: a box in the corner that hides least, or rows above the plot when none is free.
  const small = W < 560;
  const entries = [...series.filter((s) => s.label).map((s) => ({ label: s.label, color: s.color, dash: s.dash })),
    ...(fit && fitLabel ? [{ label: fitLabel, color: FIT, dash: [9, 5] }] : []),
    ...(vline && vline.label ? [{ label: vline.label, color: MARK, dash: [6, 4] }] : [])]
    .map((e) => ({ ...e, label: Array.isArray(e.label) ? e.label[small ? e.label.length - 1 : 0] : e.label }));
  const legendFont = Math.round(font * (small ? 0.8 : 0.9));
  const above = legendAbove ? legendRows(ctx, entries, legendFont, pad.l, W - pad.r) : null;
  if (above) pad.t += above.height;
  ctx.font = `${font}px system-ui, sans-serif`;
  const px = (v) => pad.l + ((tx(v) - tx(xlo)) / (tx(xhi) - tx(xlo))) * (W - pad.l - pad.r);
  const py = (v) => H - pad.b - ((ty(v) - ty(ylo)) / (ty(yhi) - ty(ylo))) * (H - pad.t - pad.b);

  // grid and axes
  ctx.lineWidth = style.gridLine;
  ctx.strokeStyle = GRID;
  ctx.fillStyle = "#444";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  yTicks.forEach((t, i) => {
    const y = py(t.v);
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(W - pad.r, y); ctx.stroke();
    ctx.fillText(yLabels[i], pad.l - font * 0.35, y);
  });
  const xTicks = xLog ? logTicks(xlo, xhi) : linTicks(xlo, xhi, Math.max(3, Math.floor(W / (font * 6))));
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  for (const t of xTicks) {
    const x = px(t.v);
    ctx.beginPath(); ctx.moveTo(x, pad.t); ctx.lineTo(x, H - pad.b); ctx.stroke();
    const label = short(t.v);
    const w = ctx.measureText(label).width;
    if (x - w / 2 > lastRight + font * 0.4) {
      ctx.fillText(label, x, H - pad.b + font * 0.3);
      lastRight = x + w / 2;
    }
  }
  ctx.strokeStyle = "#888";
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
  ctx.fillStyle = INK;
  if (xLabel) {
    const choices = Array.isArray(xLabel) ? xLabel : [xLabel];
    const room = W - pad.l - pad.r;
    const label = choices.find((t) => ctx.measureText(t).width <= room) || choices[choices.length - 1];
    ctx.fillText(label, (pad.l + W - pad.r) / 2, H - font * 1.45);
  }
  if (yLabel) {
    ctx.save(); ctx.translate(font * 0.15, (pad.t + H - pad.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "top"; ctx.fillText(yLabel, 0, 0); ctx.restore();
  }

  // Where things are drawn (canvas px), so the legend can go where it hides least.
  const occupied = [];
  const mark = (x, y) => occupied.push([x, y]);
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t - 2, W - pad.l - pad.r + 2, H - pad.t - pad.b + 4); ctx.clip();
  // the threshold
  if (vline) {
    ctx.strokeStyle = MARK; ctx.lineWidth = style.line; ctx.setLineDash([6, 4]);
    ctx.beginPath(); ctx.moveTo(px(vline.x), pad.t); ctx.lineTo(px(vline.x), H - pad.b); ctx.stroke();
    ctx.setLineDash([]);
  }
  // the fit and its floor
  if (fit) {
    if (fit.floor > 0 && (!yLog || fit.floor > ylo)) {
      ctx.strokeStyle = "#777"; ctx.lineWidth = style.gridLine * 1.5; ctx.setLineDash([2, 4]);
      ctx.beginPath(); ctx.moveTo(pad.l, py(fit.floor)); ctx.lineTo(W - pad.r, py(fit.floor)); ctx.stroke();
    }
    ctx.strokeStyle = FIT; ctx.lineWidth = style.line; ctx.setLineDash([9, 5]);
    ctx.beginPath();
    const a = Math.max(fit.x_min / 1.3, xlo), b = Math.min(fit.x_max * 1.3, xhi);
    for (let i = 0; i <= 60; i++) {
      const x = xLog ? a * (b / a) ** (i / 60) : a + (b - a) * (i / 60);
      const y = fit.a * x ** -fit.alpha + fit.floor;
      if (i === 0) ctx.moveTo(px(x), py(y)); else ctx.lineTo(px(x), py(y));
      mark(px(x), py(y));
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  // series
  let drawn = 0;
  for (const s of series) {
    const ps = s.points.filter((p) => isFinite(p.x) && isFinite(p.y) && (!xLog || p.x > 0) && (!yLog || p.y > 0))
      .sort((p, q) => p.x - q.x);
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color;
    if (s.line !== false && ps.length > 1) {
      ctx.lineWidth = s.width || style.line; ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      ps.forEach((p, i) => (i ? ctx.lineTo(px(p.x), py(p.y)) : ctx.moveTo(px(p.x), py(p.y))));
      ctx.stroke();
      for (let i = 1; i < ps.length; i++) {
        for (let f = 0.25; f < 1; f += 0.25) {
          mark(px(ps[i - 1].x) + (px(ps[i].x) - px(ps[i - 1].x)) * f, py(ps[i - 1].y) + (py(ps[i].y) - py(ps[i - 1].y)) * f);
        }
      }
      ctx.setLineDash([]);
    }
    if (s.dots === false) continue;
    for (const p of ps) {
      const x = px(p.x), y = py(p.y);
      mark(x, y);
      mark(x, y); // points count double: hiding one hides a result
      if (p.lo !== undefined && p.hi !== undefined && p.hi > p.lo && (!yLog || p.lo > 0)) {
        ctx.lineWidth = Math.max(1, style.line * 0.6);
        ctx.beginPath(); ctx.moveTo(x, py(p.lo)); ctx.lineTo(x, py(p.hi)); ctx.stroke();
      }
      ctx.beginPath(); ctx.arc(x, y, style.point * (s.small ? 0.6 : 1), 0, 2 * Math.PI); ctx.fill();
      if (p.ring) {
        ctx.strokeStyle = MARK; ctx.lineWidth = style.line;
        ctx.beginPath(); ctx.arc(x, y, style.point * 1.9, 0, 2 * Math.PI); ctx.stroke();
        ctx.strokeStyle = s.color;
      }
      drawn++;
    }
  }
  ctx.restore();

  if (entries.length && !legendAbove) {
    const lf = legendFont;
    ctx.font = `${lf}px system-ui, sans-serif`;
    const rowH = lf * 1.35;
    const boxW = Math.min(W * 0.6, Math.max(...entries.map((e) => ctx.measureText(e.label).width)) + lf * 3.2);
    const boxH = entries.length * rowH + lf * 0.6;
    const corners = [[W - pad.r - boxW - 4, pad.t + 4], [pad.l + 4, pad.t + 4],
      [W - pad.r - boxW - 4, H - pad.b - boxH - 4], [pad.l + 4, H - pad.b - boxH - 4]];
    const hidden = ([x, y]) => occupied.filter(([u, v]) => u >= x - 4 && u <= x + boxW + 4 && v >= y - 4 &&
      v <= y + boxH + 4).length;
    const [bx, by] = corners.reduce((best, c) => (hidden(c) < hidden(best) ? c : best), corners[0]);
    if (hidden([bx, by]) > 0) return drawPlot(canvas, { ...opts, legendAbove: true }); // no free corner
    ctx.fillStyle = "rgba(255,255,255,.88)"; ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1;
    ctx.fillRect(bx, by, boxW, boxH); ctx.strokeRect(bx, by, boxW, boxH);
    entries.forEach((e, i) => legendEntry(ctx, e, bx + lf * 0.5, by + lf * 0.3 + rowH * (i + 0.5), lf, boxW - lf * 3,
      style.line));
  } else if (entries.length) {
    ctx.font = `${legendFont}px system-ui, sans-serif`;
    for (const { e, x, y } of above.places) legendEntry(ctx, e, x, y, legendFont, W, style.line);
  }
  if (note) {
    ctx.font = `${Math.round(font * 0.95)}px system-ui, sans-serif`;
    ctx.fillStyle = "#555"; ctx.textAlign = "left"; ctx.textBaseline = "top";
    ctx.fillText(note, pad.l + font * 0.4, pad.t + 2);
  }
  return drawn;
}

function legendEntry(ctx, e, x, y, lf, room, line) {
  ctx.strokeStyle = e.color; ctx.lineWidth = line; ctx.setLineDash(e.dash || []);
  ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + lf * 1.7, y); ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = INK; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  let label = e.label;
  while (ctx.measureText(label).width > room && label.length > 4) label = `${label.slice(0, -2)}…`;
  ctx.fillText(label, x + lf * 2.1, y);
}

/** Entries flowing in rows between x0 and x1, from the top: their places and the height. */
function legendRows(ctx, entries, lf, x0, x1) {
  ctx.font = `${lf}px system-ui, sans-serif`;
  const rowH = lf * 1.4;
  const places = [];
  let x = x0, y = lf * 0.8;
  for (const e of entries) {
    const w = ctx.measureText(e.label).width + lf * 3;
    if (x > x0 && x + w > x1) { x = x0; y += rowH; }
    places.push({ e, x, y });
    x += w;
  }
  return { places, height: y + lf * 0.6 };
}

/** n blues from light (small) to dark (large): the series' order means size. */
export function blues(n) {
  const lo = [158, 202, 225], hi = [8, 48, 107];
  return Array.from({ length: n }, (_, i) => {
    const t = n === 1 ? 1 : i / (n - 1);
    const c = lo.map((v, k) => Math.round(v + (hi[k] - v) * t));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  });
}
