// "Signal at initialization": a freshly drawn network, one batch forward and one gradient back,
// per initializer (POST /api/v1/depth/propagation). Two log-scale charts, the activations'
// variance and the gradients' variance layer by layer, and why Xavier and He exist, in words.

import { describeDetail, propagationBody } from "./params.js";
import { finite, fmt, label, legend, logAxis, logBounds, setup } from "./plot.js";
import { bindControls, controlsFor, showValue } from "./controls.js";

const $ = (sel, root = document) => root.querySelector(sel);
const OWN = ["prop_activation", "prop_depth", "prop_width", "prop_batchnorm"];
export const INIT_COLORS = {
  zeros: "#9aa0a6", small_uniform: "#c51b7d", tf_uniform: "#8c510a", xavier: "#1b9e77", he: "#6a3d9a",
  orthogonal: "#d4a106",
};

// Orthogonal weights behave like Xavier's (entry variance 1/n): dashed, so both stay visible.
const DASHES = { orthogonal: [8, 6] };

export class PropagationView {
  constructor(root, lab) {
    this.root = root;
    this.lab = lab;
    this.result = null;
    this.hover = null;
    this.boxes = null;
    this.request = 0;
    this.bind();
  }

  get params() { return this.lab.params; }

  bind() {
    bindControls(OWN, (name, value) => {
      this.lab.onParams({ [name]: value });
      this.run();
    });
    document.addEventListener("change", (ev) => {
      if (!ev.target.dataset?.init) return;
      const on = [...document.querySelectorAll("[data-init]")].filter((b) => b.checked).map((b) => b.dataset.init);
      this.lab.onParams({ prop_inits: on });
      this.draw();
    });
    const canvas = $("#prop-canvas");
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = this.layerAt(ev.clientX - r.left, ev.clientY - r.top);
      if (i !== this.hover) { this.hover = i; this.draw(); }
    });
    canvas.addEventListener("mouseleave", () => { this.hover = null; this.draw(); });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  showControls() {
    const p = this.params;
    for (const el of controlsFor(OWN)) showValue(el, p[el.dataset.param]);
    for (const b of document.querySelectorAll("[data-init]")) b.checked = p.prop_inits.includes(b.dataset.init);
  }

  /** Ask the server for every initializer's statistics (the checkboxes only choose what is drawn). */
  async run() {
    this.showControls();
    const id = ++this.request;
    const body = { ...propagationBody(this.params), inits: Object.keys(INIT_COLORS) };
    const res = await fetch("/api/v1/depth/propagation", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (id !== this.request) return; // a newer request is on its way
    const msg = $("#prop-message");
    if (!res.ok) {
      const detail = await res.json().catch(() => ({ detail: res.statusText }));
      msg.textContent = `The study was refused: ${describeDetail(detail.detail)}`;
      msg.hidden = false;
      return;
    }
    msg.hidden = true;
    this.result = await res.json();
    this.draw();
  }

  shown() {
    const on = new Set(this.params.prop_inits);
    return (this.result?.inits ?? []).filter((r) => on.has(r.init));
  }

  draw() {
    const r = this.result;
    if (!r || this.root.hidden) return;
    const runs = this.shown();
    const { ctx, W, H, style } = setup($("#prop-canvas"));
    const f = style.font, pad = f * 0.6;
    const bottom = legend(ctx, runs.map((p) => ({ color: INIT_COLORS[p.init], text: p.label, dash: DASHES[p.init] })),
      pad, pad + f * 0.6,
      W - 2 * pad, f) + f * 0.3;
    const wide = W >= 560 && W / H >= 1.25;
    const boxes = wide
      ? [{ x: pad, y: bottom, w: (W - 3 * pad) / 2, h: H - bottom - pad },
        { x: pad * 2 + (W - 3 * pad) / 2, y: bottom, w: (W - 3 * pad) / 2, h: H - bottom - pad }]
      : [{ x: pad, y: bottom, w: W - 2 * pad, h: (H - bottom - 2 * pad) / 2 },
        { x: pad, y: bottom + pad + (H - bottom - 2 * pad) / 2, w: W - 2 * pad, h: (H - bottom - 2 * pad) / 2 }];
    this.boxes = [
      this.chart(ctx, boxes[0], runs, "activation_var", "Forward: Var(activations)", style),
      this.chart(ctx, boxes[1], runs, "grad_var", "Backward: Var(∂L/∂a)", style),
    ];
    this.say(r);
    this.readout(runs);
    for (const p of r.inits) {
      const el = $(`[data-rate="${p.init}"]`);
      if (el) el.textContent = finite(p.activation_rate) ? `×${fmt(p.activation_rate)} / layer` : "all 0";
    }
    this.lab.onDrawn("propagation");
  }

  chart(ctx, box, runs, key, title, style) {
    const f = style.font;
    label(ctx, title, box.x, box.y + f * 0.8, { bold: true });
    const values = runs.flatMap((p) => p[key]);
    let [lo, hi] = logBounds(values, 2);
    lo = Math.max(lo, hi - 60);
    const widest = ctx.measureText("10⁻²⁰").width;
    const plot = { x0: box.x + widest + 8, y0: box.y + f * 1.6, x1: box.x + box.w - 4, y1: box.y + box.h - f * 2.6 };
    const y = logAxis(ctx, plot, lo, hi, style);
    const n = this.result.layers.length;
    const px = (i) => plot.x0 + (n > 1 ? (i / (n - 1)) * (plot.x1 - plot.x0) : (plot.x1 - plot.x0) / 2);
    if (this.hover !== null) {
      ctx.strokeStyle = "rgba(24,49,83,.35)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(px(this.hover), plot.y0); ctx.lineTo(px(this.hover), plot.y1); ctx.stroke();
    }
    for (const p of runs) {
      ctx.strokeStyle = INIT_COLORS[p.init]; ctx.lineWidth = style.line;
      ctx.setLineDash(DASHES[p.init] ?? []);
      ctx.beginPath();
      let pen = false;
      p[key].forEach((v, i) => {
        // 0 (zero weights) cannot sit on a log scale: drawn along the bottom edge
        const Y = finite(v) && v > 0 ? Math.min(plot.y1, Math.max(plot.y0, y(v))) : finite(v) ? plot.y1 - 2 : null;
        if (Y === null) { pen = false; return; }
        if (pen) ctx.lineTo(px(i), Y); else ctx.moveTo(px(i), Y);
        pen = true;
      });
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.fillStyle = "#444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    ctx.fillText("1", px(0), plot.y1 + 3);
    ctx.fillText(String(n), px(n - 1), plot.y1 + 3);
    ctx.fillText("layer: input side → output", (plot.x0 + plot.x1) / 2, plot.y1 + f * 1.35);
    return { ...plot, n };
  }

  layerAt(x, y) {
    for (const b of this.boxes ?? []) {
      if (x >= b.x0 - 4 && x <= b.x1 + 4 && y >= b.y0 && y <= b.y1) {
        return Math.max(0, Math.min(b.n - 1, Math.round(((x - b.x0) / (b.x1 - b.x0)) * (b.n - 1))));
      }
    }
    return null;
  }

  readout(runs) {
    const out = $("#prop-readout");
    if (this.hover === null) { out.textContent = "Point at a layer to read its variances."; return; }
    const i = this.hover;
    out.textContent = `layer ${i + 1}: ` + runs.map((p) =>
      `${p.label} Var(a) = ${fmt(p.activation_var[i])}, Var(∂L/∂a) = ${fmt(p.grad_var[i])}`).join(" · ");
  }

  say(r) {
    const by = Object.fromEntries(r.inits.map((p) => [p.init, p]));
    const w = r.width, L = r.depth, act = r.activation;
    const lines = [];
    const small = by.small_uniform, xavier = by.xavier, he = by.he, big = by.tf_uniform;
    let head = `${L} layers of ${w} ${act} units, before any training.`;
    if (r.batchnorm) {
      head = "With BatchNorm every layer's input is rescaled to variance 1: the initializer hardly matters any more.";
    } else if (small && finite(small.activation_rate)) {
      head = `Small weights: the signal shrinks ×${fmt(small.activation_rate)} per layer and is gone long before ` +
        `layer ${L}; Xavier and He keep it.`;
    }
    if (small) {
      lines.push(`Small uniform (±0.01): Var(W) = ${fmt(small.weight_var)}, so a layer of ${w} inputs multiplies ` +
        `the variance by ${w} × ${fmt(small.weight_var)} = ${fmt(small.factor)}` +
        (finite(small.activation_rate) ? `; measured ×${fmt(small.activation_rate)} per layer forward, ` +
          `×${fmt(small.grad_rate)} backward: after ${L} layers ${fmt(small.activation_var[L - 1])} is left.` : "."));
    }
    if (xavier) {
      lines.push(`Xavier / Glorot picks Var(W) = 2 / (n_in + n_out) = ${fmt(xavier.weight_var)}: the factor is ` +
        `${fmt(xavier.factor)}, so a linear or tanh layer keeps the variance (measured ×${fmt(xavier.activation_rate)} ` +
        `forward, ×${fmt(xavier.grad_rate)} backward per layer here).`);
    }
    if (he) {
      lines.push(`He / Kaiming picks Var(W) = 2 / n_in = ${fmt(he.weight_var)}, a factor 2, because a ReLU zeroes half ` +
        `of its inputs: with ReLU the variance stays level (here ×${fmt(he.activation_rate)} per layer with ${act}).`);
    }
    if (big) {
      lines.push(`Uniform ±0.5 multiplies by ${fmt(big.factor)} per layer: the signal explodes (or saturates a bounded ` +
        `activation), and the gradient grows ×${fmt(big.grad_rate)} per layer on its way back.`);
    }
    if (by.zeros) lines.push("Zeros: every unit computes the same thing, the variance is 0 and stays 0: nothing to learn from.");
    $("#prop-headline").textContent = head;
    $("#prop-lines").replaceChildren(...lines.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
  }

  canvases() { return [$("#prop-canvas")]; }
}
