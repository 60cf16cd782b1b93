// Loss against iteration for several runs, each with its own iterations (thinned differently).
// series: [{xs, ys, color, dash}]; log: a log10 y axis (values ≤ 0 are clipped to `floor`).
// Ticks are round numbers, as many as fit (chart.js niceTicks); type follows plotStyle().

import { niceTicks, tickLabel } from "../chart.js";
import { plotStyle } from "../shell.js";

/** A log axis' label at log10 value e: 0.01 … 1000 written out, else 1e−7, 2e+5. */
function power(e) {
  const v = Math.pow(10, e);
  if (Math.abs(e) <= 3.01) return String(+v.toPrecision(2));
  return v.toExponential(0).replace("-", "−");
}

/**
 * Ticks (log10 values) of a log axis over [lo, hi]: whole decades when at least two fit, else
 * 1, 2, 5 × 10^k, else the two ends: a run inside one decade still gets numbers on its axis.
 */
function logTicks(lo, hi, count) {
  const decades = niceTicks(Math.ceil(lo - 1e-9), Math.floor(hi + 1e-9), count, true).filter((t) => t >= lo - 1e-9);
  if (decades.length >= 2) return decades;
  const steps = [];
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) {
      const t = k + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) steps.push(t);
    }
  }
  if (steps.length >= 2) return steps.filter((_, i) => i % Math.ceil(steps.length / count) === 0);
  return [lo, hi];
}

export function drawLossChart(canvas, { series, log = false, xLabel = "iteration", yLabel = "loss", floor = 1e-12 }) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 400, H = canvas.clientHeight || 200;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  const font = Math.max(14, plotStyle().font);
  ctx.font = `${font}px system-ui, sans-serif`;
  const ty = (v) => (log ? Math.log10(Math.max(v, floor)) : v);
  let ylo = Infinity, yhi = -Infinity, xhi = 1;
  for (const s of series) {
    s.ys.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      ylo = Math.min(ylo, ty(v)); yhi = Math.max(yhi, ty(v));
      xhi = Math.max(xhi, s.xs[i]);
    });
  }
  if (!Number.isFinite(ylo)) { ylo = 0; yhi = 1; }
  if (yhi - ylo < 1e-9) { yhi += 0.5; ylo -= 0.5; }
  const padT = Math.max(8, font * 0.6), padB = font * 2.7;
  const yCount = Math.max(2, Math.floor((H - padT - padB) / (font * 1.6)));
  const yt = log ? logTicks(ylo, yhi, yCount) : niceTicks(ylo, yhi, yCount);
  const yStep = yt.length > 1 ? yt[1] - yt[0] : 1;
  const yLabels = yt.map((t) => (log ? power(t) : tickLabel(t, yStep)));
  const widest = Math.max(0, ...yLabels.map((s) => ctx.measureText(s).width));
  const pad = { l: Math.max(font * 3.4, widest + font * 1.9), r: font * 1.8, t: padT, b: padB };
  const X = (x) => pad.l + (x / xhi) * (W - pad.l - pad.r);
  const Y = (v) => H - pad.b - ((ty(v) - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
  const Yt = (t) => H - pad.b - ((t - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
  ctx.fillStyle = "#333"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
  const drawn = { y: [], x: [], legend: [] };
  yt.forEach((t, i) => {
    const y = Yt(t);
    if (y < pad.t - 1 || y > H - pad.b + 1) return;
    ctx.fillText(yLabels[i], pad.l - 5, y);
    ctx.strokeStyle = "#eee"; ctx.beginPath(); ctx.moveTo(pad.l + 1, y); ctx.lineTo(W - pad.r, y); ctx.stroke();
    drawn.y.push({ label: yLabels[i], y: +y.toFixed(1), h: font });
  });
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  const xCount = Math.max(1, Math.floor((W - pad.l - pad.r) / (ctx.measureText(String(Math.round(xhi))).width + font * 2)));
  for (const x of niceTicks(0, xhi, xCount, true)) {
    const label = String(x);
    ctx.fillText(label, X(x), H - pad.b + 3);
    drawn.x.push({ label, x: +X(x).toFixed(1), w: +ctx.measureText(label).width.toFixed(1) });
  }
  ctx.fillText(xLabel, (pad.l + W) / 2, H - font * 1.25);
  ctx.save(); ctx.translate(font * 0.9, (H - pad.b) / 2); ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle"; ctx.fillText(yLabel, 0, 0); ctx.restore();
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t - 2, W - pad.l - pad.r, H - pad.t - pad.b + 4); ctx.clip();
  for (const s of series) {
    // Light colours (AdaGrad's white) get a dark outline, as on the contour plot.
    for (const [stroke, lw] of [["rgba(0,0,0,0.55)", 4], [s.color, 2]]) {
      ctx.strokeStyle = stroke; ctx.lineWidth = lw; ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let pen = false;
      s.ys.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) { pen = false; return; }
        if (pen) ctx.lineTo(X(s.xs[i]), Y(v)); else ctx.moveTo(X(s.xs[i]), Y(v));
        pen = true;
      });
      ctx.stroke();
    }
  }
  ctx.restore();
  ctx.setLineDash([]);
  canvas.dataset.chart = JSON.stringify(drawn);
}
