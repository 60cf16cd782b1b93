// The computational graph: boxes for inputs, weights, ×, +, activations and the error, laid out
// left to right; values fill left to right (forward), gradients ∂E/∂node right to left
// (backward), one node at a time. Rows are ordered so that edges cross as little as they can.

import { BLUE, ORANGE, css } from "../colors.js";
import { plotStyle } from "../shell.js";
import { plain } from "./num.js";

// Box and grid sizes at a 14 px plot font; they scale with plotStyle().font (presenter mode).
const BASE = { font: 14, BOX_W: 128, BOX_H: 74, COL: 152, ROW: 82, PAD: 8 };
const LEAVES = new Set(["input", "weight", "bias", "target"]);

/** What a box is called: the leaf's name, "i1 × w1", "+ → z_h1", "identity → h1", … */
export function title(n) {
  if (n.op === "mul") return n.label.replace("·", " × ");
  if (n.op === "act") return `${n.fn === "linear" ? "identity" : n.fn} → ${n.label}`;
  if (n.op === "add") return `+ → ${n.label}`;
  if (n.op === "sub") return "ŷ − t";
  if (n.op === "loss") return n.fn === "squared" ? "E = ½ Σ d²" : "E = cross-entropy";
  return n.label;
}

/** The node's quantity in ∂E/∂…: w1, z_h1, (i1·w1), (ŷ − t), E. */
export function symbol(n) {
  if (n.op === "mul") return `(${n.label})`;
  if (n.op === "sub") return "(ŷ − t)";
  if (n.op === "loss") return "E";
  return n.label;
}

/** Crossings of the edges from column c to column c + 1 (`pairs[c]`), rows as in `row`. */
function crossingsAt(pairs, c, row) {
  const es = pairs[c] || [];
  let count = 0;
  for (let a = 0; a < es.length; a++) {
    for (let b = a + 1; b < es.length; b++) {
      const [u, v] = es[a], [p, q] = es[b];
      if (u !== p && v !== q && (row[u] - row[p]) * (row[v] - row[q]) < 0) count++;
    }
  }
  return count;
}

const cache = new Map();

/**
 * Column and row of every node. Columns run left to right by depth (a leaf sits one column
 * left of its first consumer); rows follow the barycentre of each node's neighbours (sweeps
 * right to left and back), then adjacent swaps while they remove crossings.
 */
export function layout(nodes) {
  const key = JSON.stringify(nodes.map((n) => [n.op, n.inputs]));
  if (!cache.has(key)) {
    if (cache.size > 20) cache.clear();
    cache.set(key, computeLayout(nodes));
  }
  return cache.get(key);
}

function computeLayout(nodes) {
  const consumers = nodes.map(() => []);
  nodes.forEach((n) => n.inputs.forEach((i) => consumers[i].push(n.id)));
  const col = nodes.map((n) => n.depth);
  nodes.forEach((n) => {
    if (LEAVES.has(n.op) && consumers[n.id].length) col[n.id] = Math.min(...consumers[n.id].map((c) => nodes[c].depth)) - 1;
  });
  const cols = Math.max(...col) + 1;
  const pairs = {}; // edges by the column they leave, when they join neighbouring columns
  nodes.forEach((n) => n.inputs.forEach((i) => {
    if (col[n.id] === col[i] + 1) (pairs[col[i]] ||= []).push([i, n.id]);
  }));
  const start = Array.from({ length: cols }, () => []);
  nodes.forEach((n) => start[col[n.id]].push(n.id));
  // A few starts (creation order, then seeded shuffles; one for a big network), each improved
  // and read upside down too; the fewest crossings win, then the order closest to the names'
  // (i1 above i2, h1 above h2).
  let rand = 12345;
  const next = () => { rand = (rand * 1103515245 + 12345) % 2147483648; return rand / 2147483648; };
  const disorder = (order) => order.reduce((s, ids) => s + ids.reduce((t, a, i) =>
    t + ids.slice(i + 1).filter((b) => b < a).length, 0), 0);
  let best = null;
  const attempts = nodes.length <= 40 ? 12 : 1;
  for (let attempt = -1; attempt < attempts; attempt++) {
    const order = attempt === -1 ? bySource(start, col, nodes, consumers) : start.map((ids) => [...ids]);
    if (attempt > 0) order.forEach((ids) => ids.sort(() => next() - 0.5));
    const result = improve(order, cols, col, pairs, nodes, consumers, attempts > 1 ? 10 : 2, attempt !== -1);
    for (const cand of [result.order, result.order.map((ids) => [...ids].reverse())]) {
      const score = [result.crossings, disorder(cand)];
      if (!best || score[0] < best.score[0] || (score[0] === best.score[0] && score[1] < best.score[1])) {
        best = { order: cand, crossings: result.crossings, score };
      }
    }
  }
  const row = [], rows = {};
  best.order.forEach((ids, c) => { rows[c] = ids.length; ids.forEach((id, r) => { row[id] = r; }); });
  const maxRows = Math.max(...Object.values(rows));
  return { col, row, rows, maxRows, cols, crossings: best.crossings };
}

/** A start grouped by source: each product beside the other products of its input (i1·w1,
 * i1·w3, i2·w2, i2·w4), every other node after its first input, leaves beside their consumers. */
function bySource(start, col, nodes, consumers) {
  const order = start.map((ids) => [...ids]);
  const rowOf = {};
  order.forEach((ids, c) => {
    const key = (id) => (nodes[id].inputs.length ? Math.min(...nodes[id].inputs.map((i) => rowOf[i] ?? 0)) : -1);
    ids.sort((a, b) => key(a) - key(b) || a - b);
    ids.forEach((id, r) => { rowOf[id] = r; });
  });
  for (let c = order.length - 2; c >= 0; c--) { // leaves next to what they feed
    if (!order[c].every((id) => LEAVES.has(nodes[id].op))) continue;
    const key = (id) => Math.min(...consumers[id].map((k) => order[col[k]].indexOf(k)));
    order[c].sort((a, b) => key(a) - key(b) || a - b);
  }
  return order;
}

/** Barycentre sweeps (unless told not to), then sifting (each node tried at every place in
 * its column). */
function improve(order, cols, col, pairs, nodes, consumers, passes, sweeps = true) {
  const y = {}; // centred row: columns of different heights line up on their middles
  const place = (c) => order[c].forEach((id, r) => { y[id] = r - (order[c].length - 1) / 2; });
  order.forEach((_, c) => place(c));
  const mean = (ids) => ids.reduce((s, i) => s + y[i], 0) / ids.length;
  const sortBy = (c, neighbours) => {
    const key = Object.fromEntries(order[c].map((id) => {
      const nb = neighbours(id).filter((i) => Math.abs(col[i] - c) === 1);
      return [id, nb.length ? mean(nb) : y[id]];
    }));
    order[c].sort((a, b) => key[a] - key[b] || a - b);
    place(c);
  };
  for (let sweep = 0; sweeps && sweep < 4; sweep++) {
    for (let c = cols - 2; c >= 0; c--) sortBy(c, (id) => consumers[id]);
    for (let c = 1; c < cols; c++) sortBy(c, (id) => nodes[id].inputs);
  }
  // Fewest crossings first; among equals, the order closest to the names' (i1 above i2).
  const inversions = (ids) => ids.reduce((t, a, i) => t + ids.slice(i + 1).filter((b) => b < a).length, 0);
  const around = (c) => (crossingsAt(pairs, c - 1, y) + crossingsAt(pairs, c, y)) * 1e4 + inversions(order[c]);
  for (let pass = 0, better = true; better && pass < passes; pass++) {
    better = false;
    order.forEach((ids, c) => {
      for (const id of [...ids]) {
        const from = ids.indexOf(id);
        let bestAt = from, least = around(c);
        ids.splice(from, 1);
        for (let at = 0; at <= ids.length; at++) {
          ids.splice(at, 0, id); place(c);
          const now = around(c);
          if (now < least) { least = now; bestAt = at; }
          ids.splice(at, 1);
        }
        ids.splice(bestAt, 0, id); place(c);
        if (bestAt !== from) better = true;
      }
    });
  }
  let total = 0;
  for (let c = 0; c < cols; c++) total += crossingsAt(pairs, c, y);
  return { order, crossings: total };
}

/** The order the lab reveals: values of computed nodes first to last, then gradients last to first. */
export function sequence(nodes) {
  const fwd = nodes.filter((n) => !LEAVES.has(n.op)).map((n) => ({ id: n.id, kind: "value" }));
  const bwd = [...nodes].reverse().filter((n) => n.op !== "target" && n.op !== "input").map((n) => ({ id: n.id, kind: "grad" }));
  return [...fwd, ...bwd];
}

/** How many of sequence(nodes) each step of the walk-through reveals: the forward pass up to
 * the outputs (step 2), the error (3), every gradient (4, 5); none at steps 1 and 6. */
export function revealAt(nodes, stage) {
  const seq = sequence(nodes);
  const fwd = seq.filter((s) => s.kind === "value");
  const lastAct = fwd.map((s) => nodes[s.id].op).lastIndexOf("act");
  return { 1: 0, 2: lastAct + 1, 3: fwd.length, 4: seq.length, 5: seq.length, 6: 0 }[stage] ?? 0;
}

/** drawGraph(canvas, nodes, k): the first k entries of sequence(nodes) are revealed. */
export function drawGraph(canvas, nodes, k) {
  const style = plotStyle();
  const font = style.font, z = font / BASE.font;
  const [BOX_W, BOX_H, COL, ROW, PAD] = ["BOX_W", "BOX_H", "COL", "ROW", "PAD"].map((key) => BASE[key] * z);
  const { col, row, rows, maxRows, cols, crossings: crossed } = layout(nodes);
  const seq = sequence(nodes);
  const shown = new Set(seq.slice(0, k).map((s) => `${s.kind}${s.id}`));
  const current = k > 0 ? seq[Math.min(k, seq.length) - 1] : null;
  const W = PAD * 2 + (cols - 1) * COL + BOX_W, H = PAD * 2 + maxRows * ROW;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${W}px`; canvas.style.height = `${H}px`;
  canvas.width = W * dpr; canvas.height = H * dpr;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const xy = (id) => {
    const c = col[id], n = rows[c];
    return [PAD + c * COL, PAD + (maxRows - n) * ROW / 2 + row[id] * ROW];
  };
  ctx.lineWidth = style.gridLine * 1.2;
  for (const n of nodes) {
    const [x1, y1] = xy(n.id);
    for (const i of n.inputs) {
      const [x0, y0] = xy(i);
      const a = [x0 + BOX_W, y0 + BOX_H / 2], b = [x1, y1 + BOX_H / 2], mid = (a[0] + b[0]) / 2;
      // An edge the backward pass has crossed carries its gradient: darker.
      ctx.strokeStyle = shown.has(`grad${n.id}`) ? "#5f6368" : "#b8bdc2";
      ctx.beginPath(); ctx.moveTo(...a); ctx.bezierCurveTo(mid, a[1], mid, b[1], ...b); ctx.stroke();
    }
  }
  ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
  const boxes = [];
  const colour = (v, neg) => css(v < 0 ? neg : v > 0 ? BLUE : [95, 99, 104]);
  for (const n of nodes) {
    const [x, y] = xy(n.id);
    const leaf = LEAVES.has(n.op);
    const isCur = current && current.id === n.id;
    ctx.fillStyle = leaf ? "#f1f3f4" : "#fff";
    ctx.strokeStyle = isCur ? "#183153" : "#8a9096"; ctx.lineWidth = isCur ? 1.5 * style.line : style.gridLine;
    ctx.beginPath(); ctx.roundRect(x, y, BOX_W, BOX_H, 6 * z); ctx.fill(); ctx.stroke();
    const fit = BOX_W - 10 * z;
    ctx.fillStyle = "#222"; ctx.font = `bold ${font}px system-ui, sans-serif`;
    ctx.fillText(title(n), x + 6 * z, y + 16 * z, fit);
    ctx.font = `${font}px ui-monospace, Menlo, monospace`;
    if (leaf || shown.has(`value${n.id}`)) {
      ctx.fillStyle = colour(n.value, [176, 98, 0]);
      ctx.fillText(`= ${plain(n.value, 4)}`, x + 6 * z, y + 33 * z, fit);
    }
    if (shown.has(`grad${n.id}`)) {
      ctx.fillStyle = colour(n.grad, ORANGE);
      ctx.font = `${font * 0.9}px ui-monospace, Menlo, monospace`;
      ctx.fillText(`∂E/∂${symbol(n)}`, x + 6 * z, y + 51 * z, fit);
      ctx.fillText(`= ${plain(n.grad, 4)}`, x + 6 * z, y + 67 * z, fit);
    }
    boxes.push({ title: title(n), x: Math.round(x), y: Math.round(y) });
  }
  const fwdOut = revealAt(nodes, 2), fwd = revealAt(nodes, 3);
  Object.assign(canvas.dataset, {
    total: seq.length, forward: fwd, forwardOutputs: fwdOut, revealed: Math.min(k, seq.length),
    crossings: crossed, nodes: JSON.stringify(boxes),
  });
  return { total: seq.length, current };
}
