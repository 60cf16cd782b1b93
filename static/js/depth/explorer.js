// "Activation functions": f and f′ of one activation (and optionally a second to compare) on one
// plot, the largest slope marked, a hover readout, the lecture's pros and cons, and what the
// largest slope means through many layers (GET /api/v1/activations).

import { describeError } from "../errors.js";
import { NET_COLORS } from "./params.js";
import { finite, fmt, label, legend, setup, superscript } from "./plot.js";
import { bindControls, controlsFor, showValue } from "./controls.js";

const $ = (sel, root = document) => root.querySelector(sel);
const OWN = ["fn", "fn2", "zmax", "fn_layers"];
const SAMPLES = 601;

/** "max f′ = 0.25 at z = 0", "max f′ = 1 for z > 0", "max f′ = 1 everywhere". */
export function peakText(fn, z0) {
  const pk = fn.peak;
  if (pk.plateau && pk.plateau[0] <= z0 + 1e-9) return `max f′ = ${fmt(pk.value, 3)} everywhere`;
  const where = pk.plateau ? `for z > ${fmt(pk.plateau[0] < 0.01 ? 0 : pk.plateau[0])}`
    : `at z = ${fmt(Math.abs(pk.z) < 1e-6 ? 0 : pk.z)}`;
  return `max f′ = ${fmt(pk.value, 3)} ${where}`;
}

export class ExplorerView {
  constructor(root, lab) {
    this.root = root;
    this.lab = lab;
    this.data = null;
    this.hoverZ = null;
    this.plot = null;
    this.request = 0;
    this.bind();
  }

  get params() { return this.lab.params; }

  bind() {
    bindControls(OWN, (name, value) => {
      this.lab.onParams({ [name]: value });
      if (name === "fn_layers") this.draw(); else this.run();
    });
    const canvas = $("#fn-canvas");
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const p = this.plot;
      if (!p) return;
      const x = ev.clientX - r.left;
      this.hoverZ = x < p.x0 || x > p.x1 ? null : p.z0 + ((x - p.x0) / (p.x1 - p.x0)) * (p.z1 - p.z0);
      this.draw();
    });
    canvas.addEventListener("mouseleave", () => { this.hoverZ = null; this.draw(); });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  showControls() {
    for (const el of controlsFor(OWN)) showValue(el, this.params[el.dataset.param] ?? "");
  }

  async run() {
    this.showControls();
    const p = this.params;
    const names = [p.fn, p.fn2].filter(Boolean);
    const id = ++this.request;
    const q = new URLSearchParams({ names: [...new Set(names)].join(","), lo: -p.zmax, hi: p.zmax, n: SAMPLES });
    const res = await fetch(`/api/v1/activations?${q}`);
    if (id !== this.request) return;
    const msg = $("#fn-message");
    if (!res.ok) {
      const body = await res.json().catch(() => ({ detail: res.statusText }));
      msg.textContent = `Could not plot: ${describeError(body.detail)}`;
      msg.hidden = false;
      return;
    }
    msg.hidden = true;
    this.data = await res.json();
    this.notes();
    this.draw();
  }

  /** f and f′ at z by linear interpolation between the server's samples. */
  at(fn, z) {
    const zs = this.data.z, n = zs.length;
    const t = ((z - zs[0]) / (zs[n - 1] - zs[0])) * (n - 1);
    const i = Math.max(0, Math.min(n - 2, Math.floor(t))), u = Math.min(1, Math.max(0, t - i));
    return { f: fn.f[i] + u * (fn.f[i + 1] - fn.f[i]), df: fn.df[i] + u * (fn.df[i + 1] - fn.df[i]) };
  }

  draw() {
    const d = this.data;
    if (!d || this.root.hidden) return;
    const { ctx, W, H, style } = setup($("#fn-canvas"));
    const f = style.font, pad = f * 0.6;
    const fns = d.activations;
    const items = fns.flatMap((fn, k) => [
      { color: NET_COLORS[k], text: `${fn.label} f(z)` },
      { color: NET_COLORS[k], text: `${fn.label} f′(z)`, dash: [7, 5] },
    ]);
    const top = legend(ctx, items, pad, pad + f * 0.6, W - 2 * pad, f) + f * 0.2;
    const z0 = d.lo, z1 = d.hi;
    let lo = Math.min(...fns.flatMap((fn) => [...fn.f, ...fn.df]).filter(finite));
    let hi = Math.max(...fns.flatMap((fn) => [...fn.f, ...fn.df]).filter(finite));
    // the slopes (at most 1.13) are the point: unbounded curves may leave the plot at the top
    lo = Math.max(Math.min(lo, -0.1), -2); hi = Math.min(Math.max(hi, 1.1), 3);
    const widest = ctx.measureText("−10").width;
    const plot = { x0: pad + widest + 8, y0: top + f * 0.3, x1: W - pad, y1: H - pad - f * 2.2, z0, z1 };
    this.plot = plot;
    const px = (z) => plot.x0 + ((z - z0) / (z1 - z0)) * (plot.x1 - plot.x0);
    const py = (v) => plot.y1 - ((v - lo) / (hi - lo)) * (plot.y1 - plot.y0);
    // axes through 0, a light grid at whole numbers
    ctx.strokeStyle = "#eceff1"; ctx.lineWidth = style.gridLine;
    const step = z1 - z0 > 12 ? 5 : z1 - z0 > 6 ? 2 : 1;
    ctx.fillStyle = "#444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (let z = Math.ceil(z0 / step) * step; z <= z1; z += step) {
      ctx.beginPath(); ctx.moveTo(px(z), plot.y0); ctx.lineTo(px(z), plot.y1); ctx.stroke();
      ctx.fillText(String(z).replace("-", "−"), px(z), plot.y1 + 3);
    }
    const ystep = hi - lo > 8 ? 2 : hi - lo > 3 ? 1 : 0.5;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (let v = Math.ceil(lo / ystep) * ystep; v <= hi; v += ystep) {
      ctx.beginPath(); ctx.moveTo(plot.x0, py(v)); ctx.lineTo(plot.x1, py(v)); ctx.stroke();
      ctx.fillText(String(+v.toFixed(2)).replace("-", "−"), plot.x0 - 4, py(v));
    }
    ctx.strokeStyle = "#9aa0a6";
    ctx.beginPath(); ctx.moveTo(plot.x0, py(0)); ctx.lineTo(plot.x1, py(0)); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(px(0), plot.y0); ctx.lineTo(px(0), plot.y1); ctx.stroke();
    ctx.fillStyle = "#444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    ctx.fillText("z", (plot.x0 + plot.x1) / 2, plot.y1 + f * 1.25);
    ctx.save();
    ctx.beginPath(); ctx.rect(plot.x0, plot.y0, plot.x1 - plot.x0, plot.y1 - plot.y0); ctx.clip();
    fns.forEach((fn, k) => {
      for (const [key, dash] of [["f", []], ["df", [7, 5]]]) {
        ctx.strokeStyle = NET_COLORS[k]; ctx.lineWidth = style.line; ctx.setLineDash(dash);
        ctx.beginPath();
        d.z.forEach((z, i) => (i ? ctx.lineTo(px(z), py(fn[key][i])) : ctx.moveTo(px(z), py(fn[key][i]))));
        ctx.stroke();
      }
      ctx.setLineDash([]);
    });
    ctx.restore();
    // the largest slope: a point, or the stretch where a flat maximum holds
    fns.forEach((fn, k) => {
      const pk = fn.peak;
      ctx.fillStyle = NET_COLORS[k]; ctx.strokeStyle = NET_COLORS[k];
      const y = py(pk.value);
      if (pk.plateau) {
        ctx.lineWidth = style.line * 2.2;
        ctx.beginPath(); ctx.moveTo(px(pk.plateau[0]), y); ctx.lineTo(px(pk.plateau[1]), y); ctx.stroke();
      }
      const zx = pk.plateau ? Math.min(Math.max(pk.z, z0), z1) : pk.z;
      ctx.beginPath(); ctx.arc(px(zx), y, style.point + 1, 0, 2 * Math.PI); ctx.fill();
      const txt = peakText(fn, z0);
      const right = px(zx) > (plot.x0 + plot.x1) / 2;
      label(ctx, txt, px(zx) + (right ? -10 : 10), y - f * (0.7 + 1.25 * k), { align: right ? "right" : "left",
        color: NET_COLORS[k], bold: true });
    });
    if (this.hoverZ !== null) {
      ctx.strokeStyle = "rgba(24,49,83,.5)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(px(this.hoverZ), plot.y0); ctx.lineTo(px(this.hoverZ), plot.y1); ctx.stroke();
    }
    this.readout();
    this.bound();
    this.lab.onDrawn("activations");
  }

  readout() {
    const out = $("#fn-readout");
    if (this.hoverZ === null || !this.data) { out.textContent = "Point at the plot to read f and f′."; return; }
    const z = this.hoverZ;
    out.textContent = `z = ${z.toFixed(2)}: ` + this.data.activations.map((fn) => {
      const v = this.at(fn, z);
      return `${fn.label} f = ${v.f.toFixed(3)}, f′ = ${v.df.toFixed(3)}`;
    }).join(" · ");
  }

  /** max f′ to the power of the layer count: the most a gradient can keep through them. */
  bound() {
    const k = Math.max(1, this.params.fn_layers | 0);
    const parts = this.data.activations.map((fn) => {
      const m = fn.peak.value;
      const v = m ** k;
      const what = m < 0.999 ? "shrink a gradient to at most" : m > 1.001 ? "can scale a gradient by up to"
        : "pass a gradient on with at most";
      return `${fn.label}: f′ ≤ ${fmt(m, 3)}, so ${k} layer${k === 1 ? "" : "s"} ${what} ${fmt(m, 3)}${superscript(k)} = ${fmt(v)} of its size ` +
        "(times what the weights do).";
    });
    $("#fn-bound").textContent = parts.join(" ");
  }

  notes() {
    const box = $("#fn-notes");
    box.replaceChildren(...this.data.activations.map((fn, k) => {
      const card = document.createElement("section");
      card.className = "panel fn-card";
      const h = document.createElement("h3");
      const sw = document.createElement("i");
      sw.className = `swatch net-${k}`;
      h.append(sw, ` ${fn.label}`);
      const formula = Object.assign(document.createElement("p"), { className: "formula", textContent: fn.formula });
      const range = Object.assign(document.createElement("p"), { className: "muted",
        textContent: `${peakText(fn, this.data.lo)}; outputs from ${fmt(fn.range[0])} to ${fmt(fn.range[1])} for z in ` +
          `[${fmt(this.data.lo)}, ${fmt(this.data.hi)}]` });
      const list = (items, cls, sign) => {
        const ul = document.createElement("ul");
        ul.className = cls;
        ul.replaceChildren(...items.map((t) => Object.assign(document.createElement("li"), { textContent: `${sign} ${t}` })));
        return ul;
      };
      card.append(h, formula, range, list(fn.pros, "pros", "+"), list(fn.cons, "cons", "−"));
      return card;
    }));
  }

  canvases() { return [$("#fn-canvas")]; }
}
