// A small line chart on a canvas: several series against a shared x axis, with axes labels.
// Type and line sizes follow the page's plot style (shell.js plotStyle(), larger in presenter
// mode) unless the call gives its own.

import { plotStyle } from "./shell.js";

function niceTicks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
  const err = ((hi - lo) / count) / step;
  const s = step * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  const ticks = [];
  for (let t = Math.ceil(lo / s) * s; t <= hi + 1e-12; t += s) ticks.push(+t.toFixed(10));
  return ticks;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(0);
  return +v.toPrecision(3) + "";
}

/**
 * drawChart(canvas, {x: [...], series: [{values, color, label, dash, width}], log, xLabel, yLabel,
 *                    font, line, point, integerX})
 * Non-finite values (null) break a line; a value with no finite neighbour is drawn as a dot
 * (so a single value shows). font (label px), line (series width px), point (dot radius px)
 * default to plotStyle(); integerX: x ticks only at whole numbers (epochs, iterations).
 * Sizes follow the canvas's CSS size and DPR.
 */
export function drawChart(canvas, {
  x, series, log = false, xLabel = "", yLabel = "", font, line, point, integerX = false,
}) {
  const style = plotStyle();
  font = font ?? style.font;
  line = line ?? style.line;
  point = point ?? style.point;
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || canvas.width, H = canvas.clientHeight || canvas.height;
  canvas.width = W * dpr; canvas.height = H * dpr;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = `${font}px system-ui, sans-serif`;
  const tf = (v) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  let ylo = Infinity, yhi = -Infinity;
  for (const s of series) for (const v of s.values) {
    if (v === null || !isFinite(v)) continue;
    ylo = Math.min(ylo, tf(v)); yhi = Math.max(yhi, tf(v));
  }
  if (!isFinite(ylo)) { ylo = 0; yhi = 1; }
  if (!log) ylo = Math.min(0, ylo);
  if (yhi - ylo < 1e-9) yhi = ylo + 1;
  const yt = log ? niceTicks(Math.floor(ylo), Math.ceil(yhi), 3).filter(Number.isInteger) : niceTicks(ylo, yhi, 3);
  const yLabels = yt.map((t) => (log ? fmt(Math.pow(10, t)) : fmt(t)));
  // The left margin fits the widest tick label (1e+200 on a blown-up run), and the y title.
  const widest = Math.max(0, ...yLabels.map((s) => ctx.measureText(s).width));
  const pad = { l: Math.max(font * 3.4, widest + font * (yLabel ? 1.7 : 0.6)), r: font * 1.2,
    t: Math.max(8, font * 0.6), b: font * 2.4 };
  // One x value: centre it in a unit-wide axis instead of pinning it to the left edge.
  const one = x.length === 1;
  const xlo = x.length ? x[0] - (one ? 0.5 : 0) : 0;
  const xhi = x.length > 1 ? x[x.length - 1] : xlo + 1;
  const px = (v) => pad.l + ((v - xlo) / (xhi - xlo || 1)) * (W - pad.l - pad.r);
  const py = (v) => H - pad.b - ((tf(v) - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
  ctx.strokeStyle = "#bbb"; ctx.fillStyle = "#444"; ctx.lineWidth = style.gridLine;
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  yt.forEach((t, i) => {
    const y = H - pad.b - ((t - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
    if (y < pad.t - 1 || y > H - pad.b + 1) return;
    ctx.fillText(yLabels[i], pad.l - 4, y);
  });
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  let xt = niceTicks(xlo, xhi, 4);
  if (integerX) {
    xt = xt.filter(Number.isInteger);
    if (!xt.length) xt = [Math.round((xlo + xhi) / 2)];
  }
  for (const t of xt) ctx.fillText(fmt(t), px(t), H - pad.b + 3);
  if (xLabel) ctx.fillText(xLabel, (pad.l + W) / 2, H - font * 1.2);
  if (yLabel) {
    ctx.save(); ctx.translate(font * 0.2, (H - pad.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(yLabel, 0, 0); ctx.restore();
  }
  const ok = (v) => v !== null && v !== undefined && isFinite(v);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width || line; ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (!ok(v)) { pen = false; return; }
      const X = px(x[i]), Y = py(v);
      if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = s.color;
    s.values.forEach((v, i) => {
      if (!ok(v) || ok(s.values[i - 1]) || ok(s.values[i + 1])) return;
      ctx.beginPath(); ctx.arc(px(x[i]), py(v), point, 0, 2 * Math.PI); ctx.fill();
    });
  }
  ctx.setLineDash([]);
}
