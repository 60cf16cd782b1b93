// "Gradients through depth": one session holds every network of the comparison and trains them
// on the same batches in lockstep; its stream's frames carry per-layer gradient norms, update
// ratios, activation histograms and the loss history, drawn here and said in plain words.

import { commandQueue, openStream, postSession } from "../stream.js";
import { NAMES, NET_COLORS, SPEEDS, describeDetail, netLabel, network, trainBody } from "./params.js";
import { drawTraining, layerAt } from "./picture.js";
import { drawDistributions, drawUpdates } from "./layers.js";
import { comparisons, gradientSentence, headline, lossSentence } from "./say.js";
import { fmt } from "./plot.js";
import { bindControls, controlsFor, showValue } from "./controls.js";

const API = "/api/v1/depth";
const $ = (sel, root = document) => root.querySelector(sel);
const OWN = ["dataset", "depth", "width", "optimizer", "lr", "batch_size", "seed", "speed"];

export class TrainView {
  /** root: #view-train; lab: {params, onParams(changes), onDrawn()} from lab.js. */
  constructor(root, lab) {
    this.root = root;
    this.lab = lab;
    this.session = null;
    this.stream = null;
    this.config = null;
    this.frame = null;
    this.playing = false;
    this.hover = null;
    this.layout = null;
    this.queued = false;
    this.commands = commandQueue(); // what the page sends before its session (or its next one) exists
    this.starts = 0; // the newest start() wins; an older one still waiting gives its session back
    this.bind();
  }

  get params() { return this.lab.params; }

  // ----- session and stream ------------------------------------------------------------
  async start({ weights = null } = {}) {
    this.close();
    const start = ++this.starts;
    this.config = null; this.frame = null;
    const post = async (body) => {
      const answer = await postSession(`${API}/sessions`, body); // waits while the server is full
      if (start !== this.starts && answer.ok) { // started again meanwhile: this one is not wanted
        const { id } = await answer.json();
        fetch(`${API}/sessions/${id}`, { method: "DELETE", keepalive: true }).catch(() => {});
      }
      return answer;
    };
    let res = await post(trainBody(this.params));
    if (start !== this.starts) return;
    if (res.status === 422) {
      const detail = describeDetail((await res.json()).detail);
      this.message(`These settings were rejected: ${detail}. Showing the default settings instead.`);
      this.lab.resetTraining();
      res = await post(trainBody(this.params));
      if (start !== this.starts) return;
    }
    if (!res.ok) {
      const body = await res.json().catch(() => ({ detail: res.statusText }));
      this.message(`Could not start the networks: ${describeDetail(body.detail)}`);
      return;
    }
    const body = await res.json();
    this.session = body.id;
    if (weights) {
      const patch = await fetch(`${API}/sessions/${body.id}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ weights }),
      });
      if (!patch.ok) this.message(`The weights were not imported: ${describeDetail((await patch.json()).detail)}`);
    }
    this.stream = openStream(`${API}/sessions/${body.id}/stream`, {
      config: (msg) => this.onConfig(msg),
      frame: (msg) => { this.frame = msg; this.queue(); },
      status: (msg) => this.onStatus(msg),
      error: (msg) => { this.message(describeDetail(msg.message)); this.showControls(); },
      session: (id) => { this.session = id; }, // the run was rebuilt elsewhere (stream.js)
    }, { recreate: () => this.start() }); // the session is gone: the same networks again, from the URL
    this.commands.attach(this.stream);
  }

  close() {
    this.commands.detach();
    this.stream?.close();
    this.stream = null;
    if (this.session) fetch(`${API}/sessions/${this.session}`, { method: "DELETE", keepalive: true }).catch(() => {});
    this.session = null;
  }

  send(command) { this.commands.send(command); }

  set(changes) {
    $("#depth-message").hidden = true;
    this.send({ type: "set", params: changes });
  }

  onConfig(msg) {
    const c = msg.config;
    if (msg.reset) this.frame = null;
    this.config = c;
    const changes = {};
    for (const k of ["dataset", "n_points", "noise", "train_percent", "seed", "depth", "width", "optimizer",
      "lr", "optimizer_params", "batch_size"]) changes[k] = c[k];
    changes.networks = c.networks.map(network);
    this.lab.onParams(changes);
    this.showControls();
    this.send({ type: "speed", steps_per_frame: this.params.speed });
    this.queue();
  }

  onStatus(msg) {
    this.playing = msg.playing;
    const btn = $("#depth-play");
    btn.setAttribute("aria-label", msg.playing ? "Pause" : "Play");
    btn.classList.toggle("playing", msg.playing);
  }

  message(text) {
    const box = $("#depth-message");
    box.textContent = text;
    box.hidden = !text;
  }

  // ----- controls ------------------------------------------------------------------------
  bind() {
    bindControls(OWN, (name, value) => {
      if (name === "speed") {
        this.lab.onParams({ speed: value });
        this.send({ type: "speed", steps_per_frame: value });
        return;
      }
      this.set({ [name]: value });
    });
    document.addEventListener("change", (ev) => {
      const el = ev.target;
      const net = el.closest?.("[data-net]");
      if (!net || !el.dataset.netParam) return;
      const nets = this.params.networks.map((n) => ({ ...n }));
      nets[Number(net.dataset.net)][el.dataset.netParam] = el.type === "checkbox" ? el.checked : el.value;
      this.set({ networks: nets });
    });
    $("#depth-add-net").addEventListener("click", () => {
      const nets = this.params.networks;
      if (nets.length >= 3) return;
      const last = nets[nets.length - 1];
      this.set({ networks: [...nets, { ...last, batchnorm: !last.batchnorm }] });
    });
    document.querySelectorAll("[data-remove]").forEach((b) => b.addEventListener("click", () => {
      const k = Number(b.dataset.remove);
      this.set({ networks: this.params.networks.filter((_, i) => i !== k) });
    }));
    $("#depth-play").addEventListener("click", () => this.toggle());
    $("#depth-step").addEventListener("click", () => this.step());
    $("#depth-reset").addEventListener("click", () => this.reset());
    const canvas = $("#depth-main");
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = layerAt(this.layout, ev.clientX - r.left, ev.clientY - r.top);
      if (i !== this.hover) { this.hover = i; this.queue(); }
    });
    canvas.addEventListener("mouseleave", () => { this.hover = null; this.queue(); });
    new ResizeObserver(() => this.queue()).observe(canvas);
  }

  showControls() {
    const p = this.params;
    for (const el of controlsFor(OWN)) showValue(el, p[el.dataset.param]);
    document.querySelectorAll("[data-net]").forEach((row) => {
      const k = Number(row.dataset.net);
      const spec = p.networks[k];
      row.hidden = !spec;
      if (!spec) return;
      for (const el of row.querySelectorAll("[data-net-param]")) {
        const v = spec[el.dataset.netParam];
        if (el.type === "checkbox") el.checked = !!v; else el.value = String(v);
      }
      row.title = netLabel(spec);
    });
    $("#depth-add-net").hidden = p.networks.length >= 3;
  }

  // ----- transport -----------------------------------------------------------------------
  toggle() { this.send({ type: this.playing ? "pause" : "play" }); }
  step() { this.send({ type: "step", n: 1 }); }
  reset() { this.send({ type: "reset" }); }
  changeSpeed(delta) {
    const i = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.indexOf(this.params.speed) + delta));
    this.lab.onParams({ speed: SPEEDS[i] });
    for (const el of controlsFor(["speed"])) showValue(el, SPEEDS[i]);
    this.send({ type: "speed", steps_per_frame: SPEEDS[i] });
  }

  // ----- drawing ---------------------------------------------------------------------------
  queue() {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => { this.queued = false; this.draw(); });
  }

  /** The frame's networks with what the pictures and the words need. */
  nets() {
    const f = this.frame, c = this.config;
    return f.networks.map((n, k) => ({
      name: NAMES[k], color: NET_COLORS[k], label: n.label, residual: c.networks[k]?.residual,
      batchnorm: c.networks[k]?.batchnorm,
      grads: n.layers?.grad_norms ?? [], ratios: n.layers?.update_ratios ?? [], dead: n.layers?.dead ?? null,
      quantiles: n.layers?.quantiles, histograms: n.histograms, diverged: n.diverged,
      divergedAt: n.metrics?.diverged_at, verdict: n.metrics?.verdict, loss: n.metrics?.train_loss,
      testAccuracy: n.metrics?.test_accuracy,
    }));
  }

  draw() {
    const f = this.frame, c = this.config;
    if (!f || !c || this.root.hidden) return;
    if (f.networks.length !== c.networks.length) return; // a frame of the previous comparison
    const nets = this.nets();
    const chance = c.resolved.chance_loss;
    $("#depth-step-count").textContent = f.step.toLocaleString("en-US");
    $("#depth-epoch").textContent = String(f.epoch);
    const canvas = $("#depth-main");
    this.layout = drawTraining(canvas, { nets, history: f.history, chance, hover: this.hover });
    canvas.dataset.bars = JSON.stringify(this.layout.bars); // where the bars are (CSS px), for tools and tests
    drawDistributions($("#depth-hist"), nets);
    drawUpdates($("#depth-updates"), nets);
    this.say(f, nets, chance);
    this.readout(nets);
    document.querySelectorAll("[data-net]").forEach((row) => {
      const n = nets[Number(row.dataset.net)];
      const stats = $("[data-net-stats]", row);
      if (!n) { stats.textContent = ""; return; }
      const acc = Number.isFinite(n.testAccuracy) ? ` · test ${Math.round(100 * n.testAccuracy)} %` : "";
      stats.textContent = n.verdict === "diverged" ? "diverged" : `loss ${Number.isFinite(n.loss) ? n.loss.toFixed(3) : "–"}${acc}`;
      stats.dataset.verdict = n.verdict ?? "";
    });
    const hist = $("#depth-hist-note");
    const range = nets[0]?.histograms?.range;
    if (range) {
      hist.textContent = `Each column is one layer's outputs for the last batch (from ${fmt(range[0])} at the bottom ` +
        `to ${fmt(range[1])} at the top): dark where many values lie. All in one cell: the units agree, ` +
        "the layer passes on no information; piled at an end: saturated.";
    }
    this.lab.onDrawn("train");
  }

  say(f, nets, chance) {
    $("#depth-headline").textContent = headline(f.step, nets);
    const lines = [];
    for (const n of nets) lines.push(gradientSentence(n));
    for (const n of nets) { const s = lossSentence(n, chance); if (s && f.step) lines.push(s); }
    if (f.step) lines.push(...comparisons(nets));
    const list = $("#depth-lines");
    list.replaceChildren(...lines.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  }

  readout(nets) {
    const out = $("#depth-readout");
    const i = this.hover;
    if (i === null) {
      out.textContent = "Point at a layer's bars to read its numbers.";
      return;
    }
    const count = nets[0]?.grads.length ?? 0;
    const where = i === count - 1 ? "output layer" : `layer ${i + 1}`;
    out.textContent = `${where}: ` + nets.map((n) =>
      `${n.name} ‖∂L/∂W‖ = ${fmt(n.grads[i])}, ‖ΔW‖/‖W‖ = ${fmt(n.ratios[i])}`).join(" · ");
  }

  canvases() { return [$("#depth-main"), $("#depth-hist"), $("#depth-updates")]; }

  async exportState() {
    let weights = null;
    if (this.session) {
      const r = await fetch(`${API}/sessions/${this.session}?include=weights&include=metrics`);
      if (r.ok) weights = (await r.json()).networks.map((n) => n.weights);
    }
    return {
      lab: "depth", version: 1, config: trainBody(this.params), step: this.frame?.step,
      metrics: this.frame?.networks.map((n) => n.metrics), history: this.frame?.history, weights,
    };
  }
}
