// The depth lab's main picture: per-layer gradient norms ‖∂L/∂W‖ of every network as bars on
// a log scale (input side on the left), beside (or above, when narrow) their training losses
// on one chart with the level of guessing marked. One canvas, so an embed or a PNG export
// holds the whole argument.

import { finite, fitting, fmt, label, legend, logAxis, logBounds, setup } from "./plot.js";

/**
 * drawTraining(canvas, {nets, history, chance, hover}) → layout for hit testing.
 *   nets: [{name, label, color, grads: [L+1 numbers|null], diverged, divergedAt}]
 *   history: {steps, train_loss: [[...] per net]}; chance: the loss of guessing;
 *   hover: index of a highlighted layer or null.
 */
export function drawTraining(canvas, { nets, history, chance, hover = null }) {
  const { ctx, W, H, style } = setup(canvas);
  const f = style.font;
  const pad = f * 0.6;
  const keyBottom = legend(ctx, nets.map((n) => ({ color: n.color, text: `${n.name}  ${n.label}`, box: true })),
    pad, pad + f * 0.6, W - 2 * pad, f);
  const wide = W >= 560 && W / H >= 1.15;
  const top = keyBottom + f * 0.4;
  let barsBox, lossBox;
  if (wide) {
    const split = pad + (W - 2 * pad) * 0.6;
    barsBox = { x: pad, y: top, w: split - pad - f, h: H - top - pad };
    lossBox = { x: split + f * 0.5, y: top, w: W - split - f * 0.5 - pad, h: H - top - pad };
  } else {
    const split = top + (H - top - pad) * 0.56;
    barsBox = { x: pad, y: top, w: W - 2 * pad, h: split - top - f * 0.3 };
    lossBox = { x: pad, y: split + f * 0.3, w: W - 2 * pad, h: H - split - f * 0.3 - pad };
  }
  const bars = drawBars(ctx, barsBox, nets, style, hover);
  drawLoss(ctx, lossBox, nets, history, chance, style);
  return { bars };
}

function drawBars(ctx, box, nets, style, hover) {
  const f = style.font;
  ctx.save();
  ctx.font = `600 ${f}px system-ui, sans-serif`;
  const title = fitting(ctx, ["Gradient size ‖∂L/∂W‖ per layer (log scale)", "Gradient ‖∂L/∂W‖ per layer (log)",
    "‖∂L/∂W‖ per layer"], box.w - f);
  ctx.restore();
  label(ctx, title, box.x, box.y + f * 0.8, { bold: true });
  const all = nets.flatMap((n) => n.grads || []);
  const [lo, hi] = logBounds(all, 3);
  const widest = ctx.measureText("10⁻²⁰").width;
  const plot = { x0: box.x + widest + 8, y0: box.y + f * 1.6, x1: box.x + box.w, y1: box.y + box.h - f * 2.6 };
  const y = logAxis(ctx, plot, lo, hi, style);
  const count = Math.max(1, ...nets.map((n) => (n.grads || []).length));
  const slot = (plot.x1 - plot.x0) / count;
  const barW = Math.max(1, (slot * 0.84) / Math.max(1, nets.length));
  if (hover !== null && hover >= 0 && hover < count) {
    ctx.fillStyle = "rgba(24,49,83,.08)";
    ctx.fillRect(plot.x0 + hover * slot, plot.y0, slot, plot.y1 - plot.y0);
  }
  nets.forEach((n, k) => {
    ctx.fillStyle = n.color;
    ctx.globalAlpha = n.diverged ? 0.35 : 1;
    (n.grads || []).forEach((v, i) => {
      if (!finite(v) || v <= 0) return;
      const x = plot.x0 + i * slot + slot * 0.08 + k * barW;
      const top = Math.min(plot.y1 - 2, Math.max(plot.y0, y(Math.max(v, 10 ** lo)))); // at least 2 px: every layer shows
      ctx.fillRect(x, top, Math.max(1, barW - 0.5), plot.y1 - top);
    });
    ctx.globalAlpha = 1;
  });
  // x axis: layer numbers, input side on the left, the output layer last
  ctx.fillStyle = "#444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
  const every = Math.max(1, Math.ceil((count * f * 1.9) / (plot.x1 - plot.x0)));
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    if (!last && i % every !== 0) continue;
    if (!last && i > count - 1 - every) continue; // keep room for "out"
    ctx.fillText(last ? "out" : String(i + 1), plot.x0 + (i + 0.5) * slot, plot.y1 + 3);
  }
  ctx.fillText("layer: input side → output", (plot.x0 + plot.x1) / 2, plot.y1 + f * 1.35);
  nets.forEach((n, k) => {
    const where = [plot.x1 - 4, plot.y0 + f * (0.9 + 1.3 * k)];
    if (n.diverged) {
      label(ctx, `${n.name} diverged at step ${n.divergedAt}`, ...where, { align: "right", color: "#b3261e", bold: true });
    } else if (n.grads?.length && n.grads.every((v) => v === 0)) {
      label(ctx, `${n.name}: every gradient is 0`, ...where, { align: "right", color: n.color, bold: true });
    }
  });
  return { ...plot, slot, count, barWidth: barW, nets: nets.length };
}

function drawLoss(ctx, box, nets, history, chance, style) {
  const f = style.font;
  label(ctx, "Training loss", box.x, box.y + f * 0.8, { bold: true });
  const steps = history?.steps ?? [0];
  const series = history?.train_loss ?? [];
  const values = series.flat().filter(finite);
  const top = Math.max(chance * 1.15, ...values.filter((v) => v < chance * 4), 0.1);
  const widest = ctx.measureText("0.00").width;
  const plot = { x0: box.x + widest + 8, y0: box.y + f * 1.6, x1: box.x + box.w - f * 0.4, y1: box.y + box.h - f * 2.6 };
  const x0 = steps[0] ?? 0, x1 = Math.max(steps[steps.length - 1] ?? 1, x0 + 1);
  const px = (s) => plot.x0 + ((s - x0) / (x1 - x0)) * (plot.x1 - plot.x0);
  const py = (v) => plot.y1 - (Math.min(v, top) / top) * (plot.y1 - plot.y0);
  ctx.save();
  ctx.strokeStyle = "#bbb"; ctx.lineWidth = style.gridLine;
  ctx.beginPath(); ctx.moveTo(plot.x0, plot.y0); ctx.lineTo(plot.x0, plot.y1); ctx.lineTo(plot.x1, plot.y1); ctx.stroke();
  ctx.fillStyle = "#444"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
  // ticks at least 2.5 lines of type apart
  const room = (plot.y1 - plot.y0) / (f * 2.5);
  const tick = [0.1, 0.2, 0.5, 1, 2, 5, 10].find((t) => top / t <= room) ?? 10;
  for (let t = 0; t <= top + 1e-9; t += tick) ctx.fillText(+t.toFixed(2) + "", plot.x0 - 4, py(t));
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  ctx.fillText(String(x0), plot.x0, plot.y1 + 3);
  ctx.fillText(String(x1), plot.x1 - ctx.measureText(String(x1)).width / 2, plot.y1 + 3);
  ctx.fillText("step", (plot.x0 + plot.x1) / 2, plot.y1 + f * 1.35);
  // the loss of guessing the class frequencies: a network above it has learned nothing yet
  ctx.strokeStyle = "#80868b"; ctx.setLineDash([6, 4]); ctx.lineWidth = style.gridLine;
  ctx.beginPath(); ctx.moveTo(plot.x0, py(chance)); ctx.lineTo(plot.x1, py(chance)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.restore();
  label(ctx, `guessing (${chance.toFixed(2)})`, plot.x0 + 4, py(chance) + 4, { baseline: "top", color: "#5f6368" });
  series.forEach((vals, k) => {
    const n = nets[k];
    if (!n) return;
    ctx.strokeStyle = n.color; ctx.lineWidth = style.line;
    ctx.beginPath();
    let pen = false, last = null;
    vals.forEach((v, i) => {
      if (!finite(v)) { pen = false; return; }
      const X = px(steps[i]), Y = py(v);
      if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
      pen = true; last = [X, Y];
    });
    ctx.stroke();
    if (last) {
      ctx.fillStyle = n.color;
      ctx.beginPath(); ctx.arc(last[0], last[1], style.point, 0, 2 * Math.PI); ctx.fill();
      const left = last[0] - plot.x0 < f * 3; // a curve that ended at once: its name to the right
      label(ctx, n.diverged ? `${n.name} ✕` : n.name, last[0] + (left ? 1 : -1) * (style.point + 3),
        Math.max(plot.y0 + f, last[1] - style.point - 2), { align: left ? "left" : "right", color: n.color, bold: true });
    }
  });
}

/** The layer under a pointer at (x, y) in the bars panel, or null. */
export function layerAt(layout, x, y) {
  const b = layout?.bars;
  if (!b || x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1 + 30) return null;
  const i = Math.floor((x - b.x0) / b.slot);
  return i >= 0 && i < b.count ? i : null;
}
