// A small line chart on a canvas: several series against a shared x axis, with axes labels.
// Type and line sizes follow the page's plot style (shell.js plotStyle(), larger in presenter
// mode) unless the call gives its own.

import { plotStyle } from "./shell.js";

/**
 * "Nice" ticks between lo and hi: steps of 1, 2 or 5 × 10^k, at most `count` of them; with
 * `integer` only whole numbers (counts: epochs, mistakes, iterations). A value within a
 * millionth of a step of 0 is 0 (no "5e-16" on a linear axis).
 */
export function niceTicks(lo, hi, count = 4, integer = false) {
  if (!(hi > lo)) return [lo];
  count = Math.max(1, count);
  let step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
  for (const m of [1, 2, 5, 10, 20, 50]) {
    if ((hi - lo) / (step * m) <= count) { step *= m; break; }
  }
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-6 ? 0 : +t.toPrecision(12));
  }
  return ticks;
}

/** A tick's label: as many decimals as the step needs, a real minus sign, 1e+5 style when huge. */
export function tickLabel(v, step) {
  const a = Math.abs(v);
  let text;
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) text = v.toExponential(0);
  else text = v.toFixed(Math.max(0, Math.min(6, -Math.floor(Math.log10(step || 1) + 1e-9))));
  return text.replace("-", "−");
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(0).replace("-", "−");
  return String(+v.toPrecision(3)).replace("-", "−");
}

/** A legend in the top right corner: a line sample (dashed where the series is) and its label. */
export function drawLegend(ctx, entries, right, top, font, line) {
  ctx.save();
  ctx.font = `${font}px system-ui, sans-serif`;
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  const sample = font * 1.8, gap = font * 0.4, pad = font * 0.3;
  const widths = entries.map((e) => sample + gap + ctx.measureText(e.label).width);
  const width = widths.reduce((a, b) => a + b, 0) + font * (entries.length - 1) + 2 * pad;
  let x = right - width + pad;
  const y = top + font * 0.7;
  ctx.fillStyle = "rgba(255,255,255,.85)";
  ctx.fillRect(x - pad, top, width, font * 1.4);
  entries.forEach((e, i) => {
    ctx.strokeStyle = e.color; ctx.lineWidth = line; ctx.setLineDash(e.dash || []);
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + sample, y); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#333";
    ctx.fillText(e.label, x + sample + gap, y);
    x += widths[i] + font;
  });
  ctx.restore();
  return width;
}

/**
 * drawChart(canvas, {x: [...], series: [{values, color, label, dash, width}], log, xLabel, yLabel,
 *                    font, line, point, integerX, integerY, legend})
 * Non-finite values (null) break a line; a value with no finite neighbour is drawn as a dot
 * (so a single value shows). font (label px), line (series width px), point (dot radius px)
 * default to plotStyle(); integerX / integerY: ticks only at whole numbers (epochs, counts);
 * legend: draw the series' labels (with their dashes) in the top right corner. As many ticks as
 * fit without their labels touching. What was drawn is kept in canvas.dataset.chart (JSON).
 * Sizes follow the canvas's CSS size and DPR.
 */
export function drawChart(canvas, {
  x, series, log = false, xLabel = "", yLabel = "", font, line, point, integerX = false, integerY = false,
  legend = false,
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
  // Room for the ticks first: one label a 1.6 lines' height (y), a label's width and a gap (x).
  const padT = Math.max(8, font * 0.6) + (legend ? font * 1.5 : 0), padB = font * 2.4;
  const yCount = Math.max(1, Math.floor((H - padT - padB) / (font * 1.6)));
  let yt = log ? niceTicks(Math.floor(ylo), Math.ceil(yhi), yCount, true) : niceTicks(ylo, yhi, yCount, integerY);
  if (integerY && !log) yhi = Math.max(yhi, yt[yt.length - 1]);
  const yStep = yt.length > 1 ? yt[1] - yt[0] : 1;
  const yLabels = yt.map((t) => (log ? fmt(Math.pow(10, t)) : tickLabel(t, yStep)));
  // The left margin fits the widest tick label (1e+200 on a blown-up run), and the y title.
  const widest = Math.max(0, ...yLabels.map((s) => ctx.measureText(s).width));
  const pad = { l: Math.max(font * 3.4, widest + font * (yLabel ? 1.7 : 0.6)), r: font * 1.2, t: padT, b: padB };
  // One x value: centre it in a unit-wide axis instead of pinning it to the left edge.
  const one = x.length === 1;
  const xlo = x.length ? x[0] - (one ? 0.5 : 0) : 0;
  const xhi = x.length > 1 ? x[x.length - 1] : xlo + 1;
  const px = (v) => pad.l + ((v - xlo) / (xhi - xlo || 1)) * (W - pad.l - pad.r);
  const py = (v) => H - pad.b - ((tf(v) - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
  ctx.strokeStyle = "#bbb"; ctx.fillStyle = "#444"; ctx.lineWidth = style.gridLine;
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  const drawn = { y: [], x: [], legend: [] };
  yt.forEach((t, i) => {
    const y = H - pad.b - ((t - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
    if (y < pad.t - 1 || y > H - pad.b + 1) return;
    ctx.fillText(yLabels[i], pad.l - 4, y);
    drawn.y.push({ label: yLabels[i], y: +y.toFixed(1), h: font });
  });
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  const sampleW = Math.max(ctx.measureText(fmt(xhi)).width, ctx.measureText(fmt(xlo)).width);
  const xCount = Math.max(1, Math.floor((W - pad.l - pad.r) / (sampleW + font * 1.5)));
  let xt = niceTicks(xlo, xhi, xCount, integerX);
  if (integerX && !xt.length) xt = [Math.round((xlo + xhi) / 2)];
  const xStep = xt.length > 1 ? xt[1] - xt[0] : 1;
  for (const t of xt) {
    const label = integerX ? String(t) : tickLabel(t, xStep);
    ctx.fillText(label, px(t), H - pad.b + 3);
    drawn.x.push({ label, x: +px(t).toFixed(1), w: +ctx.measureText(label).width.toFixed(1) });
  }
  if (xLabel) ctx.fillText(xLabel, (pad.l + W) / 2, H - font * 1.2);
  if (yLabel) {
    ctx.save(); ctx.translate(font * 0.2, (H - pad.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(yLabel, 0, 0); ctx.restore();
  }
  if (legend) {
    const entries = series.filter((s) => s.label).map((s) => ({ label: s.label, color: s.color, dash: s.dash }));
    drawLegend(ctx, entries, W - pad.r, Math.max(2, font * 0.1), font, line);
    drawn.legend = entries.map((e) => ({ label: e.label, dashed: Boolean(e.dash?.length) }));
  }
  canvas.dataset.chart = JSON.stringify(drawn);
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
