// The network diagram: input features, hidden neurons and the output as small heatmaps of
// what each computes over the input plane; SVG edges whose width and colour show each
// weight's magnitude and sign. Hovering a node shows its map large with its value there;
// hovering an edge shows its weight. Plain arrays in, DOM out: no training happens here.

import { drawHeatmap } from "../heatmap.js";
import { decode } from "../grid.js";
import { CLASS_COLORS, css, diverging } from "../colors.js";
import { plotStyle } from "../shell.js";

const SVG = "http://www.w3.org/2000/svg";
const DOMAIN = 6;

// Thumbnails of switched-off inputs (the server sends only the active ones): the plain
// formulas of the feature registry, for a preview of what switching one on would add.
const PREVIEW = {
  x1: (a) => a, x2: (a, b) => b, x1sq: (a) => a * a, x2sq: (a, b) => b * b,
  x1x2: (a, b) => a * b, sinx1: (a) => Math.sin(a), sinx2: (a, b) => Math.sin(b),
};

function previewFeature(canvas, name) {
  const n = 24, f = PREVIEW[name];
  if (!f) return;
  const vals = [];
  let m = 1;
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    const v = f(-DOMAIN + (c / (n - 1)) * 2 * DOMAIN, DOMAIN - (r / (n - 1)) * 2 * DOMAIN);
    vals.push(v); m = Math.max(m, Math.abs(v));
  }
  canvas.width = n; canvas.height = n;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(n, n);
  vals.forEach((v, i) => {
    const rgb = diverging(v / m);
    img.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
}

/** A class's probability over the plane: white (0) to the class colour (1). */
function drawProbability(canvas, grid, rgb) {
  const [h, w] = grid.shape;
  const p = decode(grid);
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < p.length; i++) {
    const t = Math.max(0, Math.min(1, p[i]));
    img.data.set([255 + (rgb[0] - 255) * t, 255 + (rgb[1] - 255) * t, 255 + (rgb[2] - 255) * t, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(3);
}

export class NetworkDiagram {
  /**
   * root: an element with a size; opts: {features: [{name, label}], tip: element,
   * onToggleFeature(name), onNeurons(layer, delta), maxNeurons}
   */
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.structure = null;
    this.frame = null;
    this.hover = null;
    new ResizeObserver(() => this.structure && this.layout()).observe(root);
  }

  /** structure: {active: [feature names], hidden: [n, ...], nOut, problem, k} */
  build(structure) {
    this.structure = structure;
    this.layout();
  }

  layout() {
    const { active, hidden, nOut } = this.structure;
    const feats = this.opts.features;
    const root = this.root;
    root.replaceChildren();
    this.hideTip();
    const W = root.clientWidth, H = root.clientHeight;
    const k = plotStyle().font / 14; // larger nodes in presenter mode
    const bottom = 6;
    const rows = Math.max(feats.length, nOut, ...hidden, 1);
    const labelW = 64 * k;
    const ncols = hidden.length + 2;
    // Hidden layers' headers (± neurons, the count) first: the nodes start below the tallest.
    const heads = hidden.map((n, l) => this._layerHead(n, l));
    const top = Math.max(46, ...heads.map((h) => h.offsetHeight + 6));
    const pitch = (H - top - bottom) / rows;
    const s = Math.max(10, Math.min(44 * k, pitch * 0.78));
    const colX = (c) => labelW + (c * (W - s - 10 - labelW)) / (ncols - 1);
    const rowY = (r) => top + r * pitch + (pitch - s) / 2;
    heads.forEach((head, l) => { head.style.left = `${colX(l + 1) + s / 2}px`; });
    this.s = s;
    this.lineScale = plotStyle().line / 2;

    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "edges");
    svg.setAttribute("width", W); svg.setAttribute("height", H);
    root.appendChild(svg);
    root.append(...heads); // over the edges' hit areas, so their buttons take the clicks
    const gVis = document.createElementNS(SVG, "g");
    const gHit = document.createElementNS(SVG, "g");
    svg.append(gVis, gHit);

    // Node rows per column: features by registry position, hidden and output by index.
    const rowsOf = [active.map((n) => feats.findIndex((f) => f.name === n)),
      ...hidden.map((n) => [...Array(n).keys()]), [...Array(nOut).keys()]];
    this.edges = [];
    for (let l = 0; l < rowsOf.length - 1; l++) {
      const layerEdges = [];
      rowsOf[l].forEach((ri, i) => {
        const row = [];
        rowsOf[l + 1].forEach((rj, j) => {
          const x1 = colX(l) + s, y1 = rowY(ri) + s / 2, x2 = colX(l + 1), y2 = rowY(rj) + s / 2;
          const mx = (x1 + x2) / 2;
          const d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
          const vis = document.createElementNS(SVG, "path");
          vis.setAttribute("d", d); vis.setAttribute("class", "edge");
          const hit = document.createElementNS(SVG, "path");
          hit.setAttribute("d", d); hit.setAttribute("class", "edge-hit");
          hit.dataset.edge = `${l},${i},${j}`;
          gVis.appendChild(vis); gHit.appendChild(hit);
          row.push(vis);
        });
        layerEdges.push(row);
      });
      this.edges.push(layerEdges);
    }
    gHit.addEventListener("mousemove", (ev) => {
      const [l, i, j] = (ev.target.dataset.edge || "").split(",").map(Number);
      if (Number.isNaN(l)) return;
      this.hover = { kind: "edge", l, i, j };
      this.showTip(ev.clientX, ev.clientY);
    });
    gHit.addEventListener("mouseleave", () => this.hideTip());

    // Input features: all of them, the active ones full colour and wired in.
    this.inputNodes = {};
    feats.forEach((f, r) => {
      const on = active.includes(f.name);
      const node = el("button", `node feature${on ? " on" : ""}`, root);
      node.type = "button";
      node.dataset.feature = f.name;
      node.setAttribute("aria-pressed", on ? "true" : "false");
      node.title = `${on ? "Remove" : "Use"} input ${f.label}`;
      Object.assign(node.style, { left: `${colX(0)}px`, top: `${rowY(r)}px`, width: `${s}px`, height: `${s}px` });
      const label = el("span", "feature-label", node);
      label.textContent = f.label;
      const cv = el("canvas", "", node);
      if (on) this.inputNodes[f.name] = { cv, index: active.indexOf(f.name) };
      else previewFeature(cv, f.name);
      node.addEventListener("click", () => this.opts.onToggleFeature?.(f.name));
      this._hoverable(cv, on ? { kind: "input", name: f.name, label: f.label } : null);
    });

    // Hidden layers: one heatmap per neuron with its bias (under the header built above).
    this.hiddenNodes = hidden.map((n, l) => {
      return [...Array(n).keys()].map((j) => {
        const node = el("div", "node neuron", root);
        node.dataset.layer = l; node.dataset.neuron = j;
        Object.assign(node.style, { left: `${colX(l + 1)}px`, top: `${rowY(j)}px`, width: `${s}px`, height: `${s}px` });
        const cv = el("canvas", "", node);
        cv.width = 40; cv.height = 40;
        const bias = el("span", "bias", node);
        this._hoverable(cv, { kind: "neuron", l, j });
        return { cv, bias };
      });
    });

    // Output: the output's map (one unit) or one swatch per class (softmax).
    const ox = colX(ncols - 1);
    this.outputNodes = [...Array(nOut).keys()].map((j) => {
      const node = el("div", "node output", root);
      Object.assign(node.style, { left: `${ox}px`, top: `${rowY(j)}px`, width: `${s}px`, height: `${s}px` });
      const cv = el("canvas", "", node);
      cv.width = 40; cv.height = 40;
      if (nOut > 1) { // each class's probability map, framed in its colour
        node.style.borderColor = css(CLASS_COLORS[j % CLASS_COLORS.length]);
        node.style.borderWidth = "2px";
        this._hoverable(cv, { kind: "output", j });
      } else {
        this._hoverable(cv, { kind: "output" });
      }
      return { cv, bias: el("span", "bias", node) };
    });
    if (this.frame) this.update(this.frame);
  }

  /** A hidden layer's header: + and − neurons and the count. */
  _layerHead(n, l) {
    const head = el("div", "layer-head", this.root);
    const plus = el("button", "round small", head);
    plus.type = "button"; plus.textContent = "+";
    plus.setAttribute("aria-label", `Add a neuron to layer ${l + 1}`);
    plus.disabled = n >= (this.opts.maxNeurons || 8);
    const minus = el("button", "round small", head);
    minus.type = "button"; minus.textContent = "−";
    minus.setAttribute("aria-label", `Remove a neuron from layer ${l + 1}`);
    minus.disabled = n <= 1;
    plus.addEventListener("click", () => this.opts.onNeurons?.(l, +1));
    minus.addEventListener("click", () => this.opts.onNeurons?.(l, -1));
    const count = el("div", "layer-count", head);
    count.textContent = `${n} neuron${n === 1 ? "" : "s"}`;
    return head;
  }

  _hoverable(cv, what) {
    if (!what) return;
    cv.addEventListener("mousemove", (ev) => {
      this.hover = { ...what, u: ev.offsetX / cv.clientWidth, v: ev.offsetY / cv.clientHeight };
      this.showTip(ev.clientX, ev.clientY);
    });
    cv.addEventListener("mouseleave", () => this.hideTip());
  }

  /** Whether a frame's weights fit the diagram's current shape. */
  fits(frame) {
    const w = frame.weights, st = this.structure;
    if (!w || !st) return false;
    const sizes = [st.active.length, ...st.hidden, st.nOut];
    return w.length === sizes.length - 1 &&
      w.every((layer, l) => layer.W.length === sizes[l] && layer.b.length === sizes[l + 1]);
  }

  update(frame) {
    this.frame = frame;
    if (!this.fits(frame)) return;
    const { weights, grids } = frame;
    this.edges.forEach((layer, l) => layer.forEach((row, i) => row.forEach((path, j) => {
      const w = weights[l].W[i][j] ?? 0;
      path.setAttribute("stroke", css(diverging(Math.tanh(1.5 * w))));
      const scale = this.lineScale || 1; // thicker in presenter mode
      path.setAttribute("stroke-width", (scale * Math.min(8, 0.6 + 1.6 * Math.abs(w))).toFixed(2));
    })));
    const L = this.hiddenNodes.length;
    this.hiddenNodes.forEach((nodes, l) => nodes.forEach((n, j) => {
      n.bias.style.background = css(diverging(Math.tanh(weights[l].b[j] ?? 0)));
      if (grids?.neurons?.[l]?.[j]) drawHeatmap(n.cv, grids.neurons[l][j]);
    }));
    this.outputNodes.forEach((n, j) => {
      n.bias.style.background = css(diverging(Math.tanh(weights[L].b[j] ?? 0)));
      if (this.outputNodes.length === 1 && grids?.output) drawHeatmap(n.cv, grids.output);
      else if (grids?.probabilities?.[j]) drawProbability(n.cv, grids.probabilities[j], CLASS_COLORS[j % CLASS_COLORS.length]);
    });
    for (const { cv, index } of Object.values(this.inputNodes)) {
      if (grids?.inputs?.[index]) drawHeatmap(cv, grids.inputs[index]);
    }
    if (this.hover && this.tipShown) this.showTip();
  }

  _grid(h) {
    const g = this.frame?.grids;
    if (!g) return null;
    if (h.kind === "neuron") return g.neurons?.[h.l]?.[h.j];
    if (h.kind === "input") return g.inputs?.[this.inputNodes[h.name]?.index];
    if (h.kind === "output") return h.j === undefined ? g.output : g.probabilities?.[h.j];
    return null;
  }

  showTip(x, y) {
    const tip = this.opts.tip, h = this.hover;
    if (!tip || !h || !this.frame || !this.fits(this.frame)) return;
    const canvas = tip.querySelector("canvas"), text = tip.querySelector(".tip-text");
    const st = this.structure, weights = this.frame.weights;
    const lines = [];
    const grid = this._grid(h);
    if (h.kind === "edge") {
      const src = h.l === 0 ? this.opts.features.find((f) => f.name === st.active[h.i]).label
        : `neuron ${h.i + 1} of layer ${h.l}`;
      const dst = h.l === st.hidden.length ? (st.nOut > 1 ? `output (class ${h.j})` : "output")
        : `neuron ${h.j + 1} of layer ${h.l + 1}`;
      lines.push(`Weight <b>${fmt(weights[h.l].W[h.i][h.j])}</b>`, `${src} → ${dst}`);
    } else {
      if (h.kind === "neuron") {
        lines.push(`Layer ${h.l + 1}, neuron ${h.j + 1}`, `bias ${fmt(weights[h.l].b[h.j])}`);
      } else if (h.kind === "input") {
        lines.push(`Input ${h.label}`);
      } else {
        lines.push(h.j === undefined ? "Output" : `Output: probability of class ${h.j}`);
      }
      if (grid) {
        const [rows, cols] = grid.shape;
        const c = Math.min(cols - 1, Math.max(0, Math.floor(h.u * cols)));
        const r = Math.min(rows - 1, Math.max(0, Math.floor(h.v * rows)));
        const value = decode(grid)[r * cols + c];
        const x1 = -DOMAIN + (c / (cols - 1)) * 2 * DOMAIN, x2 = DOMAIN - (r / (rows - 1)) * 2 * DOMAIN;
        lines.push(`value at (${x1.toFixed(1)}, ${x2.toFixed(1)}): <b>${fmt(value)}</b>`);
      }
    }
    text.innerHTML = lines.join("<br>");
    canvas.hidden = !grid;
    if (grid && h.kind === "output" && h.j !== undefined) drawProbability(canvas, grid, CLASS_COLORS[h.j % CLASS_COLORS.length]);
    else if (grid) drawHeatmap(canvas, grid);
    tip.hidden = false;
    this.tipShown = true;
    if (x !== undefined) {
      const r = tip.getBoundingClientRect();
      const left = Math.min(x + 16, window.innerWidth - r.width - 8);
      const topPos = y + 16 + r.height > window.innerHeight ? y - r.height - 12 : y + 16;
      tip.style.left = `${Math.max(4, left)}px`;
      tip.style.top = `${Math.max(4, topPos)}px`;
    }
  }

  hideTip() {
    this.hover = null;
    this.tipShown = false;
    if (this.opts.tip) this.opts.tip.hidden = true;
  }
}
