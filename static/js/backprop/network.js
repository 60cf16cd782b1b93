// The network diagram: neurons by layer, weights as coloured edges with their names and values.
// Sizes follow the page's plot style (larger in presenter mode); each weight's label sits on its
// own edge, where it covers no other label, neuron or edge, on a white halo.

import { BLUE, ORANGE, css } from "../colors.js";
import { plotStyle } from "../shell.js";
import { plain } from "./num.js";

function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 400, H = canvas.clientHeight || 260;
  canvas.width = W * dpr; canvas.height = H * dpr;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  return { ctx, W, H };
}

const FRACTIONS = [0.5, 0.4, 0.6, 0.33, 0.67, 0.27, 0.73, 0.2, 0.8];

/** Overlap area of two boxes {x, y, w, h} (x, y: centre). */
function overlap(a, b) {
  const dx = Math.min(a.x + a.w / 2, b.x + b.w / 2) - Math.max(a.x - a.w / 2, b.x - b.w / 2);
  const dy = Math.min(a.y + a.h / 2, b.y + b.h / 2) - Math.max(a.y - a.h / 2, b.y - b.h / 2);
  return dx > 0 && dy > 0 ? dx * dy : 0;
}

/** Whether the segment (x0, y0)–(x1, y1) passes through box b (Liang–Barsky clipping). */
function crosses(b, [x0, y0, x1, y1]) {
  let lo = 0, hi = 1;
  const dx = x1 - x0, dy = y1 - y0;
  const sides = [[-dx, x0 - (b.x - b.w / 2)], [dx, b.x + b.w / 2 - x0], [-dy, y0 - (b.y - b.h / 2)], [dy, b.y + b.h / 2 - y0]];
  for (const [p, q] of sides) {
    if (p === 0) { if (q < 0) return false; continue; }
    const r = q / p;
    if (p < 0) lo = Math.max(lo, r); else hi = Math.min(hi, r);
    if (lo > hi) return false;
  }
  return true;
}

/**
 * Label boxes along their own edges: every label tries fractions of its edge's length and
 * takes the one that overlaps no placed label or neuron and that no other edge crosses
 * (then the one that does least harm). Two passes, so early labels can make room.
 */
export function placeLabels(edges, sizes, obstacles) {
  const at = (e, t) => ({ x: e.seg[0] + (e.seg[2] - e.seg[0]) * t, y: e.seg[1] + (e.seg[3] - e.seg[1]) * t });
  const placed = edges.map(() => null);
  const cost = (i, t) => {
    const e = edges[i];
    const box = { ...at(e, t), ...sizes[i] };
    let c = Math.abs(t - 0.5) * 2; // slight preference for the middle
    placed.forEach((p, j) => { if (p && j !== i) c += overlap(box, p) * 10; });
    for (const o of obstacles) c += overlap(box, o) * 10;
    edges.forEach((o, j) => { if (j !== i && crosses(box, o.seg)) c += 300; });
    return [c, box];
  };
  const worst = edges.map(() => 0);
  for (let pass = 0; pass < 2; pass++) {
    edges.forEach((_, i) => {
      let best = null;
      for (const t of FRACTIONS) {
        const [c, box] = cost(i, t);
        if (!best || c < best[0]) best = [c, box];
      }
      placed[i] = best[1];
      worst[i] = best[0];
    });
  }
  // A label is in the way when it overlaps something (more than a sliver) or an edge crosses it.
  return { boxes: placed, clashes: worst.filter((c) => c > 40).length };
}

/**
 * drawNetwork(canvas, network, view) draws what the walk-through's step computes:
 * view.mode "weights" labels each edge with its weight; "forward" also prints each neuron's
 * activation (view.values) under it; "backward" prints δ = ∂E/∂z under the neurons
 * (view.deltas) and ∂E/∂w on the edges (view.grads), coloured by sign with an arrow pointing
 * back, for the last `view.revealed` layers only (output first: the error flows backward);
 * "update" keeps δ and labels each edge w ← its new value (view.updates).
 */
export function drawNetwork(canvas, net, view = {}) {
  const { ctx, W, H } = setup(canvas);
  const mode = view.mode || "weights";
  const values = mode === "forward" ? view.values || {} : {};
  const style = plotStyle();
  const font = style.font, k = font / 14;
  const layers = [net.inputs, ...net.neurons];
  const L = net.neurons.length;
  const revealed = mode === "backward" ? view.revealed ?? L : mode === "update" ? L : 0;
  const layerOf = Object.fromEntries(net.neurons.flatMap((names, l) => names.map((n) => [n, l + 1])));
  const open = (layer) => layer > L - revealed; // the backward pass has reached this layer
  const pos = {};
  const r = 17 * k;
  const margin = Math.max(r, font * 2.8) + 4; // room for "δ −0.11326" under a neuron of the first or last layer
  // Rows share one pitch, each layer centred; room for the activation under the lowest neuron.
  const top = r + 6, bottom = H - r - font * 1.6;
  const most = Math.max(...layers.map((names) => names.length));
  const pitch = most > 1 ? (bottom - top) / (most - 1) : 0;
  layers.forEach((names, l) => {
    const x = margin + (l * (W - 2 * margin)) / (layers.length - 1);
    names.forEach((n, j) => { pos[n] = [x, (top + bottom) / 2 + (j - (names.length - 1) / 2) * pitch]; });
  });
  // What each edge shows: its weight, its gradient (once the backward pass reached it) or its new value.
  const edgeValue = (w) => (mode === "backward" ? (open(w.layer) ? view.grads?.[w.name] : null)
    : mode === "update" ? view.updates?.[w.name] ?? w.value : w.value);
  const vmax = Math.max(1e-12, ...net.weights.map((w) => Math.abs(edgeValue(w) ?? 0)));
  const edges = net.weights.map((w) => {
    const [x0, y0] = pos[w.from], [x1, y1] = pos[w.to];
    const len = Math.hypot(x1 - x0, y1 - y0) || 1;
    const ux = (x1 - x0) / len, uy = (y1 - y0) / len;
    return { w, v: edgeValue(w), seg: [x0 + ux * r, y0 + uy * r, x1 - ux * r, y1 - uy * r], ux, uy };
  });
  for (const { v, seg, ux, uy } of edges) {
    const on = v !== null && v !== undefined;
    ctx.strokeStyle = on ? css(v < 0 ? ORANGE : BLUE) : "#d5d8dc";
    ctx.lineWidth = on ? style.line * (0.5 + 2 * Math.min(1, Math.abs(v) / vmax)) : style.gridLine;
    ctx.beginPath(); ctx.moveTo(seg[0], seg[1]); ctx.lineTo(seg[2], seg[3]); ctx.stroke();
    if (mode === "backward" && on) { // the gradient flows back: an arrowhead at the source end
      const a = 7 * k, [x, y] = [seg[0], seg[1]];
      ctx.fillStyle = ctx.strokeStyle;
      ctx.beginPath(); ctx.moveTo(x, y);
      ctx.lineTo(x + ux * a * 1.6 - uy * a * 0.7, y + uy * a * 1.6 + ux * a * 0.7);
      ctx.lineTo(x + ux * a * 1.6 + uy * a * 0.7, y + uy * a * 1.6 - ux * a * 0.7);
      ctx.closePath(); ctx.fill();
    }
  }
  // Activations (forward) or δ (backward, update) go under their neuron (the circle holds the name).
  ctx.font = `${font}px system-ui, sans-serif`;
  const notes = {};
  for (const n of Object.keys(pos)) {
    if (n in values) notes[n] = plain(values[n], 3);
    else if (mode !== "forward" && mode !== "weights" && view.deltas && n in view.deltas && open(layerOf[n])) {
      notes[n] = `δ ${plain(view.deltas[n], 5)}`;
    }
  }
  const shown = Object.entries(notes).map(([n, text]) => {
    const [x, y] = pos[n];
    return { text, x, y: y + r + font * 0.75, w: ctx.measureText(text).width + font * 0.4, h: font * 1.25,
      color: text.startsWith("δ") ? css(view.deltas[n] < 0 ? [176, 98, 0] : BLUE) : "#222" };
  });
  const obstacles = [...Object.values(pos).map(([x, y]) => ({ x, y, w: 2 * r, h: 2 * r })), ...shown];
  ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.lineJoin = "round";
  // A white halo: a rounded box the edge runs into and out of, so the label reads as its own.
  const halo = (text, x, y, color, w = ctx.measureText(text).width + font * 0.4, h = font * 1.25) => {
    ctx.fillStyle = "rgba(255,255,255,.94)";
    ctx.beginPath(); ctx.roundRect(x - w / 2, y - h / 2, w, h, h / 3); ctx.fill();
    ctx.fillStyle = color; ctx.fillText(text, x, y);
  };
  if (net.weights.length <= 16) {
    // Name and number when they fit, else a shorter number, else the names alone (the numbers
    // are in the step's text).
    const say = { weights: (w, d) => (d ? `${w.name} ${plain(w.value, d)}` : w.name),
      forward: (w, d) => (d ? `${w.name} ${plain(w.value, d)}` : w.name),
      backward: (w, d, v) => (v === null ? w.name : d ? `∂E/∂${w.name} ${plain(v, d)}` : plain(v, 2)),
      update: (w, d, v) => (d ? `${w.name} ← ${plain(v, d)}` : w.name) }[mode];
    let texts, boxes;
    for (const d of [4, 2, 0]) {
      texts = edges.map(({ w, v }) => say(w, d, v ?? null));
      const sizes = texts.map((t) => ({ w: ctx.measureText(t).width + font * 0.4, h: font * 1.25 }));
      const placed = placeLabels(edges, sizes, obstacles);
      boxes = placed.boxes;
      if (!placed.clashes) break;
    }
    boxes.forEach((b, i) => {
      const v = edges[i].v;
      halo(texts[i], b.x, b.y, v === null || v === undefined ? "#80868b" : css(v < 0 ? [176, 98, 0] : BLUE), b.w, b.h);
    });
    canvas.dataset.labels = JSON.stringify(boxes.map((b, i) => ({
      name: edges[i].w.name, text: texts[i],
      x: +b.x.toFixed(1), y: +b.y.toFixed(1), w: +b.w.toFixed(1), h: +b.h.toFixed(1),
      edge: edges[i].seg.map((v) => +v.toFixed(1)),
    })));
  }
  for (const v of shown) halo(v.text, v.x, v.y, v.color);
  for (const [n, [x, y]] of Object.entries(pos)) {
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = "#444"; ctx.lineWidth = style.gridLine * 1.5; ctx.stroke();
    ctx.fillStyle = "#222"; ctx.font = `bold ${font}px system-ui, sans-serif`;
    ctx.fillText(n, x, y);
  }
  canvas.dataset.mode = mode;
  canvas.dataset.revealed = revealed;
  canvas.dataset.deltas = JSON.stringify(Object.fromEntries(Object.entries(notes).filter(([, t]) => t.startsWith("δ"))));
}
