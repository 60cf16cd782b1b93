// The computational graph: boxes for inputs, weights, ×, +, activations and the error; values
// fill left to right (forward), gradients ∂E/∂node right to left (backward), one node at a time.

import { BLUE, ORANGE, css } from "../colors.js";
import { plotStyle } from "../shell.js";
import { plain } from "./num.js";

// Box and grid sizes at a 14 px plot font; they scale with plotStyle().font (presenter mode).
const BASE = { font: 14, BOX_W: 112, BOX_H: 54, COL: 130, ROW: 64, PAD: 8 };
const LEAVES = new Set(["input", "weight", "bias", "target"]);

/** Column and row of every node: leaves sit one column left of their first consumer. */
export function layout(nodes) {
  const consumers = nodes.map(() => []);
  nodes.forEach((n) => n.inputs.forEach((i) => consumers[i].push(n.id)));
  const col = nodes.map((n) => n.depth);
  nodes.forEach((n) => {
    if (LEAVES.has(n.op) && consumers[n.id].length) col[n.id] = Math.min(...consumers[n.id].map((c) => nodes[c].depth)) - 1;
  });
  const rows = {};
  const row = nodes.map((n) => { rows[col[n.id]] = (rows[col[n.id]] || 0) + 1; return rows[col[n.id]] - 1; });
  const maxRows = Math.max(...Object.values(rows));
  const cols = Math.max(...col) + 1;
  return { col, row, rows, maxRows, cols };
}

/** The order the lab reveals: values of computed nodes first to last, then gradients last to first. */
export function sequence(nodes) {
  const fwd = nodes.filter((n) => !LEAVES.has(n.op)).map((n) => ({ id: n.id, kind: "value" }));
  const bwd = [...nodes].reverse().filter((n) => n.op !== "target" && n.op !== "input").map((n) => ({ id: n.id, kind: "grad" }));
  return [...fwd, ...bwd];
}

/** drawGraph(canvas, nodes, k): the first k entries of sequence(nodes) are revealed. */
export function drawGraph(canvas, nodes, k) {
  const style = plotStyle();
  const font = style.font, z = font / BASE.font;
  const [BOX_W, BOX_H, COL, ROW, PAD] = ["BOX_W", "BOX_H", "COL", "ROW", "PAD"].map((key) => BASE[key] * z);
  const { col, row, rows, maxRows, cols } = layout(nodes);
  const seq = sequence(nodes);
  const shown = new Set(seq.slice(0, k).map((s) => `${s.kind}${s.id}`));
  const current = k > 0 ? seq[k - 1] : null;
  const W = PAD * 2 + cols * COL, H = PAD * 2 + maxRows * ROW;
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
  ctx.strokeStyle = "#b8bdc2"; ctx.lineWidth = style.gridLine * 1.2;
  for (const n of nodes) {
    const [x1, y1] = xy(n.id);
    for (const i of n.inputs) {
      const [x0, y0] = xy(i);
      ctx.beginPath(); ctx.moveTo(x0 + BOX_W, y0 + BOX_H / 2); ctx.lineTo(x1, y1 + BOX_H / 2); ctx.stroke();
    }
  }
  ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
  for (const n of nodes) {
    const [x, y] = xy(n.id);
    const leaf = LEAVES.has(n.op);
    const isCur = current && current.id === n.id;
    ctx.fillStyle = leaf ? "#f1f3f4" : "#fff";
    ctx.strokeStyle = isCur ? "#183153" : "#8a9096"; ctx.lineWidth = isCur ? 1.5 * style.line : style.gridLine;
    ctx.beginPath(); ctx.roundRect(x, y, BOX_W, BOX_H, 6 * z); ctx.fill(); ctx.stroke();
    ctx.fillStyle = "#222"; ctx.font = `bold ${font}px system-ui, sans-serif`;
    const title = n.op === "act" ? `${n.fn === "linear" ? "identity" : n.fn} → ${n.label}`
      : n.op === "mul" ? "×" : n.op === "add" ? `+ → ${n.label}` : n.op === "sub" ? "ŷ − t"
      : n.op === "loss" ? (n.fn === "squared" ? "E = ½ Σ d²" : "E = cross-entropy") : n.label;
    ctx.fillText(title, x + 6 * z, y + 15 * z, BOX_W - 10 * z);
    ctx.font = `${font}px ui-monospace, Menlo, monospace`;
    if (leaf || shown.has(`value${n.id}`)) {
      ctx.fillStyle = css(n.value < 0 ? [176, 98, 0] : n.value > 0 ? BLUE : [95, 99, 104]);
      ctx.fillText(`= ${plain(n.value, 4)}`, x + 6 * z, y + 32 * z, BOX_W - 10 * z);
    }
    if (shown.has(`grad${n.id}`)) {
      ctx.fillStyle = css(n.grad < 0 ? ORANGE : n.grad > 0 ? BLUE : [95, 99, 104]);
      ctx.fillText(`∂E ${plain(n.grad, 4)}`, x + 6 * z, y + 48 * z, BOX_W - 10 * z);
    }
  }
  return { total: seq.length, current };
}
