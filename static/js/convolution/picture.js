// The step-by-step picture (SVG): the padded input with the window, the kernel, the output grid
// filling in. Plain arrays in (the session's config and frame), SVG out; clicks on input and
// kernel cells are reported through onEdit(kind, row, col, element).

import { css, diverging } from "../colors.js";
import { fmt } from "./num.js";

const NS = "http://www.w3.org/2000/svg";
const CELL = 46;
const GAP = 50;
const TOP = 32;

/** Numbers shrink with their length so "0.111" still fits a cell. */
function size(text) {
  return text.length <= 3 ? 21 : text.length === 4 ? 17 : 14;
}

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function defs() {
  const d = el("defs");
  const p = el("pattern", { id: "cv-hatch", width: 8, height: 8, patternUnits: "userSpaceOnUse",
    patternTransform: "rotate(45)" });
  p.append(el("rect", { width: 8, height: 8, fill: "#eceef0" }), el("line", { x1: 0, y1: 0, x2: 0, y2: 8,
    stroke: "#b3b8bd", "stroke-width": 3 }));
  d.append(p);
  return d;
}

/**
 * draw(svg, cfg, frame, {onEdit}) — cfg: the session's config message (padded, source_rows/cols,
 * rows_used/cols_used, applied, kernel, shape, sizes, padding, mode, operation);
 * frame: {step, position, window, output}. Channel 0 is drawn.
 */
export function draw(svg, cfg, frame, { onEdit, editable = true, stacked = false } = {}) {
  const padded = cfg.padded[0];
  const applied = cfg.applied[0];
  const Hp = padded.length, Wp = padded[0].length;
  const kh = applied.length, kw = applied[0].length;
  const [Ho, Wo] = cfg.shape;
  const [[pt], [pl]] = cfg.padding;
  // side by side (input ⋆ kernel = output), or on a narrow screen the input above the rest
  let xIn, xK, xOut, yIn, yK, yOut, width, height, mid, midK;
  if (!stacked) {
    const H = Math.max(Hp, kh, Ho) * CELL;
    xIn = 4; xK = xIn + Wp * CELL + GAP; xOut = xK + kw * CELL + GAP;
    width = xOut + Wo * CELL + 4; height = TOP + H + 6;
    const yOf = (n) => TOP + (H - n * CELL) / 2;
    yIn = yOf(Hp); yK = yOf(kh); yOut = yOf(Ho); mid = midK = TOP + H / 2;
  } else {
    const row2 = GAP + kw * CELL + GAP + Wo * CELL;
    width = Math.max(Wp * CELL, row2) + 8;
    xIn = (width - Wp * CELL) / 2; yIn = TOP;
    const H2 = Math.max(kh, Ho) * CELL, top2 = TOP + Hp * CELL + TOP + 8;
    xK = (width - row2) / 2 + GAP; xOut = xK + kw * CELL + GAP;
    yK = top2 + (H2 - kh * CELL) / 2; yOut = top2 + (H2 - Ho * CELL) / 2;
    height = top2 + H2 + 6; mid = midK = top2 + H2 / 2;
  }
  svg.replaceChildren(defs());
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);

  const win = frame?.window;
  const tapW = new Map();
  if (win) win.rows.forEach((r, u) => win.cols.forEach((c, v) => tapW.set(`${r},${c}`, applied[u][v])));

  // input (padded), with what the floor / the stride never reaches hatched
  const gIn = el("g");
  for (let r = 0; r < Hp; r++) {
    for (let c = 0; c < Wp; c++) {
      const inside = r >= pt && r < Hp - cfg.padding[0][1] && c >= pl && c < Wp - cfg.padding[1][1];
      const used = cfg.rows_used[r] && cfg.cols_used[c];
      const x = xIn + c * CELL, y = yIn + r * CELL;
      const rect = el("rect", { x, y, width: CELL, height: CELL,
        class: `cell ${inside ? "" : "pad"} ${used ? "" : "unused"} ${inside && editable ? "editable" : ""}` });
      if (inside && editable) {
        rect.dataset.kind = "input";
        rect.dataset.r = r - pt; rect.dataset.c = c - pl;
      }
      gIn.append(rect);
      const key = `${r},${c}`;
      if (tapW.has(key)) gIn.append(el("rect", { x, y, width: CELL, height: CELL, class: "tap" }));
      const t = fmt(padded[r][c]);
      gIn.append(el("text", { x: x + CELL / 2, y: y + CELL / 2 - (tapW.has(key) ? 5 : 0),
        class: `v ${inside ? "" : "padv"}`, "pointer-events": "none", style: `font-size:${size(t)}px` }, t));
      if (tapW.has(key)) {
        gIn.append(el("text", { x: x + CELL / 2, y: y + CELL - 10, class: "w", "pointer-events": "none" },
          `×${fmt(tapW.get(key))}`));
      }
    }
  }
  if (win) {
    const r0 = win.rows[0], c0 = win.cols[0];
    const spanR = win.rows[win.rows.length - 1] - r0 + 1, spanC = win.cols[win.cols.length - 1] - c0 + 1;
    gIn.append(el("rect", { x: xIn + c0 * CELL, y: yIn + r0 * CELL, width: spanC * CELL, height: spanR * CELL,
      class: "win" }));
  }
  const inLabel = `input ${Hp - cfg.padding[0][0] - cfg.padding[0][1]}×${Wp - cfg.padding[1][0] - cfg.padding[1][1]}` +
    (pt || pl || cfg.padding[0][1] || cfg.padding[1][1] ? ` + padding (${cfg.mode})` : "");
  gIn.append(el("text", { x: xIn, y: yIn - 16, class: "label" }, inLabel));

  // kernel, as multiplied (turned by 180° for true convolution)
  const gK = el("g");
  const kMax = Math.max(1e-12, ...applied.flat().map(Math.abs));
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      const x = xK + v * CELL, y = yK + u * CELL;
      const rect = el("rect", { x, y, width: CELL, height: CELL, class: `cell ${editable ? "editable" : ""}`,
        style: `fill:${css(diverging(0.55 * applied[u][v] / kMax))}` });
      if (editable) {
        rect.dataset.kind = "kernel"; // the kernel as given: undo the turn for true convolution
        rect.dataset.r = cfg.flip ? kh - 1 - u : u;
        rect.dataset.c = cfg.flip ? kw - 1 - v : v;
      }
      const t = fmt(applied[u][v]);
      gK.append(rect, el("text", { x: x + CELL / 2, y: y + CELL / 2, class: "v w-cell", "pointer-events": "none",
        style: `font-size:${size(t)}px` }, t));
    }
  }
  gK.append(el("text", { x: xK, y: yK - 16, class: "label" }, `kernel ${kh}×${kw}${cfg.flip ? " (turned 180°)" : ""}`));

  // output, filled as far as the window went
  const gOut = el("g");
  const filled = (frame?.output || []).flat().filter((v) => v !== null);
  const oMax = Math.max(1e-12, ...filled.map(Math.abs));
  for (let i = 0; i < Ho; i++) {
    for (let j = 0; j < Wo; j++) {
      const v = frame?.output?.[i]?.[j] ?? null;
      const x = xOut + j * CELL, y = yOut + i * CELL;
      gOut.append(el("rect", { x, y, width: CELL, height: CELL, class: "cell",
        style: `fill:${v === null ? "#fff" : css(diverging(0.8 * v / oMax))}` }));
      if (v !== null) {
        const t = fmt(v);
        gOut.append(el("text", { x: x + CELL / 2, y: y + CELL / 2, class: "v out-cell",
          style: `fill:${Math.abs(v / oMax) > 0.7 ? "#fff" : "#222"};font-size:${size(t)}px` }, t));
      }
    }
  }
  if (frame?.position) {
    const [i, j] = frame.position;
    gOut.append(el("rect", { x: xOut + j * CELL, y: yOut + i * CELL, width: CELL, height: CELL, class: "cur" }));
  }
  gOut.append(el("text", { x: xOut, y: yOut - 16, class: "label" }, `output ${Ho}×${Wo}`));

  svg.append(gIn, gK, gOut,
    el("text", { x: xK - GAP / 2, y: midK, class: "op" }, cfg.flip ? "∗" : "⋆"),
    el("text", { x: xOut - GAP / 2, y: mid, class: "op" }, "="));
  if (onEdit) {
    svg.onclick = (ev) => {
      const t = ev.target.closest?.("[data-kind]");
      if (t) onEdit(t.dataset.kind, +t.dataset.r, +t.dataset.c, t);
    };
  }
}
