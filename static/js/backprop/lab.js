// The backprop lab's page: controls ↔ URL, the walk-through session over the stream, the views.

import { describeDetail, openStream, postSession } from "../stream.js";
import { labReady, registerLab, syncURL } from "../shell.js";
import { drawChart } from "../chart.js";
import { drawNetwork } from "./network.js";
import { drawGraph, sequence } from "./graph.js";
import { TITLES, stepHTML } from "./steps.js";
import { num, plain } from "./num.js";

const $ = (sel) => document.querySelector(sel);
const CLASSIC = {
  inputs: [2, 3], targets: [1], hidden: [2], weights: [0.11, 0.21, 0.12, 0.08, 0.14, 0.15],
  biases: false, bias_values: null, activation: "linear", output_activation: null, loss: "squared",
  lr: 0.05, seed: 0, repeats: 20,
};
const LISTS = ["inputs", "targets", "hidden", "weights", "bias_values"];
const NUMBERS = ["lr", "seed", "repeats"];
const SPEEDS = [1, 2, 3, 6, 12, 30, 60];

function list(v) {
  if (v === null || v === undefined) return null;
  const arr = Array.isArray(v) ? v : String(v).split(/[,\s]+/).filter((s) => s !== "");
  return arr.length ? arr.map(Number) : null;
}

function coerce(raw) {
  const p = { ...CLASSIC };
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in CLASSIC)) continue;
    if (LISTS.includes(k)) p[k] = list(v);
    else if (NUMBERS.includes(k)) p[k] = Number(v);
    else if (k === "biases") p[k] = v === true || v === "true" || v === "1";
    else if (k === "output_activation") p[k] = v || null;
    else p[k] = v;
  }
  if (p.hidden === null) p.hidden = [];
  return p;
}

let params = coerce(JSON.parse($("#lab-params").textContent || "{}"));
let frame = null;
let stream = null;
let playing = false;
let speed = 1;
let gpos = 0; // nodes of the computational graph revealed
let gkey = "";
let anim = null;
let ready = false;
let importing = null; // {resolve, reject, configured} while an imported walk-through is on its way

function fillControls() {
  for (const el of document.querySelectorAll("#bp-controls [name]")) {
    const v = params[el.name];
    if (el.type === "checkbox") el.checked = !!v;
    else if (LISTS.includes(el.name)) el.value = v ? v.join(", ") : "";
    else el.value = v ?? "";
  }
  $("#bp-controls [name=bias_values]").disabled = !params.biases;
}

function readControls() {
  const next = { ...params };
  for (const el of document.querySelectorAll("#bp-controls [name]")) {
    if (el.type === "checkbox") next[el.name] = el.checked;
    else if (LISTS.includes(el.name)) next[el.name] = list(el.value);
    else if (NUMBERS.includes(el.name)) next[el.name] = Number(el.value);
    else next[el.name] = el.value || null;
  }
  if (next.hidden === null) next.hidden = [];
  // A new shape invalidates the listed weights: the seed's random ones take over.
  const shape = (p) => [p.inputs?.length, ...(p.hidden || []), p.targets?.length].join("-");
  if (shape(next) !== shape(params)) { next.weights = null; next.bias_values = null; }
  return next;
}

function urlParams() { return { ...params }; }

function showError(msg) {
  $("#bp-error").hidden = !msg;
  $("#bp-error").textContent = msg || "";
}

function apply(next, state = null) {
  params = next;
  fillControls();
  syncURL(urlParams());
  showError("");
  const body = state ? { ...params, state } : params;
  if (stream) { stream.send({ type: "pause" }); stream.send({ type: "set", params: body }); }
  else start(state);
}

/** The exported frame's network, iteration, step and error history: what continues it. */
function savedState(saved) {
  const net = saved?.network;
  if (!net || !Array.isArray(net.weights)) return null;
  return {
    weights: net.weights.map((w) => w.value),
    bias_values: net.biases?.length ? net.biases.map((b) => b.value) : null,
    iteration: saved.iteration ?? 0, stage: saved.stage_index ?? 1,
    losses: saved.losses ?? null, loss_iterations: saved.loss_iterations ?? null,
  };
}

/** Continue an exported walk-through from its weights (not from the start). */
function importRun(obj) {
  const next = coerce(obj.params || obj);
  const state = savedState(obj.frame);
  importDone("another import started");
  if (!state) { apply(next); return Promise.resolve(); }
  return new Promise((resolve, reject) => {
    const mine = { resolve, reject, configured: false };
    importing = mine;
    apply(next, state);
    setTimeout(() => { if (importing === mine) importDone("the server did not answer"); }, 10_000);
  });
}

function importDone(error) {
  if (!importing) return;
  if (error) importing.reject(new Error(error)); else importing.resolve();
  importing = null;
}

function detail(body) {
  return describeDetail(body.detail);
}

async function start(state = null) {
  const res = await postSession("/api/v1/backprop/sessions", params);
  const body = await res.json();
  if (!res.ok) { showError(detail(body)); importDone(detail(body)); return; }
  stream = openStream(`/api/v1/backprop/sessions/${body.id}/stream`, {
    config: (m) => { if (importing && m.reset) importing.configured = true; },
    frame: (m) => {
      frame = m;
      showError("");
      render();
      if (importing?.configured) importDone();
      if (!ready) { ready = true; labReady(); } // marks the page drawn and starts ?autoplay=1
    },
    status: (m) => { playing = m.playing; speed = m.speed; renderButtons(); },
    error: (m) => { showError(m.message); importDone(m.message); },
  }, { recreate: () => start() }); // the session is gone: the same run again, from the URL
  if (state) stream.send({ type: "set", params: { ...params, state } });
}

function values(k) {
  if (k < 2 || !frame) return {};
  const out = {};
  frame.trace.initialize.inputs.forEach((f) => { out[f.symbol] = f.value; });
  frame.trace.forward.forEach((n) => { out[n.name] = n.a; });
  return out;
}

function render() {
  if (!frame) return;
  const k = frame.stage_index;
  document.querySelectorAll("#bp-stages li").forEach((li) => li.classList.toggle("current", +li.dataset.stage === k));
  $("#bp-step-title").textContent = `Step ${k} · ${TITLES[k - 1]}`;
  $("#bp-step-body").innerHTML = stepHTML(k, frame);
  $("#bp-iteration").textContent = frame.iteration;
  $("#bp-E").innerHTML = num(frame.losses[frame.losses.length - 1]);
  drawNetwork($("#bp-network"), frame.network, values(k));
  const L = frame.losses.filter((v) => v !== null && v > 0);
  const log = L.length > 1 && Math.max(...L) / Math.min(...L) > 100;
  drawChart($("#bp-loss"), {
    x: frame.loss_iterations, series: [{ values: frame.losses, color: "#b3261e" }], log,
    xLabel: "repeat", yLabel: "E", integerX: true,
  });
  if (frame.diverged) showError("diverged: the error overflowed — the learning rate is too large");
  const key = JSON.stringify([frame.iteration, frame.trace.graph.nodes.length, params]);
  if (key !== gkey) { gkey = key; gpos = 0; stopAnim(); }
  renderGraph();
  renderCheck();
  if (!params.weights && frame.iteration === 0) {
    $("#bp-controls [name=weights]").value = frame.network.weights.map((w) => plain(w.value, 6)).join(", ");
  }
  renderButtons();
}

function renderGraph() {
  const nodes = frame.trace.graph.nodes;
  const total = sequence(nodes).length;
  gpos = Math.max(0, Math.min(total, gpos));
  const { current } = drawGraph($("#bp-graph"), nodes, gpos);
  const fwd = nodes.filter((n) => !["input", "weight", "bias", "target"].includes(n.op)).length;
  $("#bp-g-status").textContent = gpos === 0 ? "press Next node: values fill left to right, then gradients right to left"
    : `${gpos <= fwd ? "forward" : "backward"} ${gpos} / ${total}: ${nodes[current.id].label} ` +
      (current.kind === "value" ? `= ${plain(nodes[current.id].value, 6)}` : `∂E/∂ = ${plain(nodes[current.id].grad, 6)}`);
}

const sci = (v) => (v === null || !isFinite(v) ? "—" : v.toExponential(1));

function renderCheck() {
  const g = frame.trace.gradcheck;
  const rows = g.rows.map((r) => {
    const ok = r.analytic !== null && r.numeric !== null;
    const rel = ok ? Math.abs(r.analytic - r.numeric) / Math.max(1, Math.abs(r.analytic), Math.abs(r.numeric)) : null;
    return `<tr><th>∂E/∂${r.name}</th><td>${num(r.analytic)}</td><td>${num(r.numeric)}</td><td>${sci(rel)}</td></tr>`;
  });
  $("#bp-check").innerHTML = `<tr><th></th><th>backprop</th><th>central difference</th><th>rel. error</th></tr>${rows.join("")}` +
    `<tr><th>max</th><td colspan="3" id="bp-check-max">${sci(g.max_rel_error)} ${g.max_rel_error === null ? "" : g.max_rel_error < 1e-5 ? "✓ agree" : "✗ disagree"}</td></tr>`;
}

function renderButtons() {
  $("#bp-play").textContent = playing ? "❚❚ Pause" : "▶ Play";
  $("#bp-next").disabled = !!frame?.diverged;
  $("#bp-play").disabled = !!frame?.diverged;
}

function stopAnim() { if (anim) { clearInterval(anim); anim = null; $("#bp-g-anim").textContent = "Animate"; } }

const controller = {
  toggle() { stream?.send({ type: playing ? "pause" : "play" }); },
  step() { stream?.send({ type: "step", n: 1 }); },
  reset() { stream?.send({ type: "reset" }); },
  faster() { setSpeed(1); },
  slower() { setSpeed(-1); },
  state: () => urlParams(),
  playing: () => playing,
  exportState: () => ({ lab: "backprop", params: urlParams(), frame }),
  importState: (obj) => importRun(obj),
  canvases: () => [$("#bp-network"), $("#bp-loss"), $("#bp-graph")],
};

function setSpeed(dir) {
  const i = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.indexOf(speed) + dir));
  speed = SPEEDS[i] ?? 1;
  stream?.send({ type: "speed", steps_per_frame: speed });
}

$("#bp-controls").addEventListener("change", () => apply(readControls()));
$("#bp-next").addEventListener("click", controller.step);
$("#bp-play").addEventListener("click", controller.toggle);
$("#bp-reset").addEventListener("click", controller.reset);
$("#bp-classic").addEventListener("click", () => apply({ ...CLASSIC }));
$("#bp-random").addEventListener("click", () => apply({ ...params, weights: null, bias_values: null, seed: params.seed + 1 }));
$("#bp-g-next").addEventListener("click", () => { stopAnim(); gpos += 1; renderGraph(); });
$("#bp-g-back").addEventListener("click", () => { stopAnim(); gpos -= 1; renderGraph(); });
$("#bp-g-all").addEventListener("click", () => { stopAnim(); gpos = Infinity; renderGraph(); });
$("#bp-g-anim").addEventListener("click", () => {
  if (anim) return stopAnim();
  if (gpos >= sequence(frame.trace.graph.nodes).length) gpos = 0;
  $("#bp-g-anim").textContent = "Stop";
  anim = setInterval(() => {
    gpos += 1;
    renderGraph();
    if (gpos >= sequence(frame.trace.graph.nodes).length) stopAnim();
  }, 400);
});
window.addEventListener("resize", render);

fillControls();
syncURL(urlParams());
registerLab(controller);
start();
