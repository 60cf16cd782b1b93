// The backprop lab's page: controls ↔ URL, the walk-through session over the stream, the views.

import { commandQueue, openStream, postSession } from "../stream.js";
import { labReady, registerLab, syncURL } from "../shell.js";
import { drawChart } from "../chart.js";
import { drawNetwork } from "./network.js";
import { drawGraph, revealAt, sequence, symbol } from "./graph.js";
import { TITLES, stepHTML } from "./steps.js";
import { num, parseNumber, plain } from "./num.js";
import { describeError, fieldName } from "../errors.js";

const $ = (sel) => document.querySelector(sel);
const CLASSIC = {
  inputs: [2, 3], targets: [1], hidden: [2], weights: [0.11, 0.21, 0.12, 0.08, 0.14, 0.15],
  biases: false, bias_values: null, activation: "linear", output_activation: null, loss: "squared",
  lr: 0.05, seed: 0, repeats: 20,
};
const LISTS = ["inputs", "targets", "hidden", "weights", "bias_values"];
const NUMBERS = ["lr", "seed", "repeats"];
// Play walks one step per pace (ms): slow enough to read a step, faster on demand (+/−).
const PACES = [4000, 2500, 1600, 1000, 600, 300, 120];
const DEFAULT_PACE = 1600;
const REVEAL_MS = 1200; // a step's reveal on the diagram and the graph takes this long

/** Numbers of a list field, read as the lab prints them ("−0.5", "1.5·10⁻⁶"); a word that
 * is no number throws, so it never reaches the URL as NaN. */
function list(v, name = "list") {
  if (v === null || v === undefined) return null;
  const arr = Array.isArray(v) ? v : String(v).split(/[,\s]+/).filter((s) => s !== "");
  const out = arr.map((x) => (typeof x === "number" ? x : parseNumber(x)));
  const bad = arr.find((x, i) => !Number.isFinite(out[i]));
  if (bad !== undefined) throw new Error(`“${bad}” in ${fieldName([name])} is not a number`);
  return out.length ? out : null;
}

function coerce(raw) {
  const p = { ...CLASSIC };
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in CLASSIC)) continue;
    if (LISTS.includes(k)) { try { p[k] = list(v, k); } catch { p[k] = null; } }
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
const commands = commandQueue(); // a key pressed before the session exists waits for it
let playing = false; // Play is paced here, one step per `pace` ms (the server only steps)
let pace = DEFAULT_PACE;
let player = null;
let gpos = 0; // nodes of the computational graph revealed
let gstage = 0; // the step the graph and the diagram last followed
let backLayers = 0; // layers the backward pass has reached on the diagram (step 4)
let reveal = null; // the running reveal animation
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
    else if (LISTS.includes(el.name)) next[el.name] = list(el.value, el.name);
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

// Two kinds of trouble share the banner: a field that cannot be read (it stays until the
// controls are applied again) and the server's word on the run (cleared by its next frame).
const trouble = { input: "", server: "" };

function showError(msg, kind = "server") {
  trouble[kind] = msg || "";
  const text = trouble.input || trouble.server;
  $("#bp-error").hidden = !text;
  $("#bp-error").textContent = text;
}

function apply(next, state = null) {
  stopPlaying();
  params = next;
  fillControls();
  syncURL(urlParams());
  showError("", "input");
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
  return describeError(body.detail);
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
    status: () => renderButtons(),
    error: (m) => { showError(describeError(m.message)); importDone(m.message); },
  }, { recreate: () => start() }); // the session is gone: the same run again, from the URL
  commands.attach(stream);
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
  const L = frame.losses.filter((v) => v !== null && v > 0);
  const log = L.length > 1 && Math.max(...L) / Math.min(...L) > 100;
  drawChart($("#bp-loss"), {
    x: frame.loss_iterations, series: [{ values: frame.losses, color: "#b3261e" }], log,
    xLabel: "repeat", yLabel: "E", integerX: true,
  });
  if (frame.diverged) showError("diverged: the error overflowed — the learning rate is too large");
  follow(k);
  drawViews();
  renderCheck(k);
  if (!params.weights && frame.iteration === 0) {
    $("#bp-controls [name=weights]").value = frame.network.weights.map((w) => plain(w.value, 6)).join(", ");
  }
  renderButtons();
}

/** What the network diagram shows at step k: weights (1, 6), activations (2, 3), δ and the
 * gradients flowing back (4), δ and the new weights (5). */
function networkView(k) {
  const t = frame.trace;
  const deltas = {};
  t.error.outputs.forEach((o) => { deltas[o.name] = o.dE_dz; });
  t.backward.hidden.forEach((h) => { deltas[h.name] = h.delta; });
  const grads = Object.fromEntries(t.backward.params.filter((p) => p.kind === "weight").map((p) => [p.name, p.grad]));
  const updates = Object.fromEntries(t.update.map((u) => [u.name, u.new]));
  const mode = k === 2 || k === 3 ? "forward" : k === 4 ? "backward" : k === 5 ? "update" : "weights";
  return { mode, values: values(k), deltas, grads, updates, revealed: backLayers };
}

/** The diagram and the graph follow the walk-through: entering a step reveals what it
 * computes, over REVEAL_MS — the forward values left to right, the gradients from the error
 * back to the inputs — so the pictures move in step with the text. */
function follow(k) {
  const nodes = frame.trace.graph.nodes;
  const key = JSON.stringify([frame.iteration, nodes.length, params]);
  const target = revealAt(nodes, k);
  const L = frame.network.neurons.length;
  if (key !== gkey) { gkey = key; gpos = 0; gstage = 0; }
  if (k === gstage) return;
  const from = k > gstage ? Math.min(gpos, target) : target;
  const layersFrom = k === 4 && gstage !== 4 ? 0 : L;
  gstage = k;
  stopAnim();
  stopReveal();
  if (from === target && layersFrom === L) { gpos = target; backLayers = L; return; }
  const t0 = performance.now();
  const tick = () => {
    const t = Math.min(1, (performance.now() - t0) / REVEAL_MS);
    gpos = from + Math.round((target - from) * t);
    backLayers = layersFrom === L ? L : Math.min(L, Math.floor(t * L) + 1);
    if (t >= 1) stopReveal();
    drawViews();
  };
  reveal = setInterval(tick, 40);
  tick();
}

function stopReveal() {
  if (reveal) { clearInterval(reveal); reveal = null; }
  drawViews();
}

function drawViews() {
  if (!frame) return;
  const net = $("#bp-network"), graph = $("#bp-graph");
  drawNetwork(net, frame.network, networkView(frame.stage_index));
  renderGraph();
  net.dataset.animating = graph.dataset.animating = reveal ? "1" : "0";
}

function renderGraph() {
  const nodes = frame.trace.graph.nodes;
  const total = sequence(nodes).length;
  gpos = Math.max(0, Math.min(total, gpos));
  const { current } = drawGraph($("#bp-graph"), nodes, gpos);
  const fwd = revealAt(nodes, 3);
  const n = current && nodes[current.id];
  $("#bp-g-status").textContent = gpos === 0 ? "press Next node: values fill left to right, then gradients right to left"
    : `${gpos <= fwd ? "forward" : "backward"} ${gpos} / ${total}: ` +
      (current.kind === "value" ? `${n.label} = ${plain(n.value, 6)}` : `∂E/∂${symbol(n)} = ${plain(n.grad, 6)}`);
}

const sci = (v) => (v === null || !isFinite(v) ? "—" : v.toExponential(1));

function renderCheck(k) {
  // The check gives every gradient away: it appears with the backward step (4) and the
  // update (5) that use those gradients.
  const table = $("#bp-check");
  let note = $("#bp-check-note");
  if (!note) {
    note = document.createElement("p");
    note.id = "bp-check-note"; note.className = "muted";
    note.textContent = "Appears at step 4, once backpropagation has computed the gradients: each one "
      + "is then compared with a central difference (E(w + h) − E(w − h)) / 2h.";
    table.after(note);
  }
  table.hidden = k !== 4 && k !== 5;
  note.hidden = !table.hidden;
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
  if (playing && (frame?.diverged || frame?.iteration >= 1000)) stopPlaying();
  $("#bp-play").textContent = playing ? "❚❚ Pause" : "▶ Play";
  $("#bp-next").disabled = !!frame?.diverged;
  $("#bp-play").disabled = !!frame?.diverged;
}

function stopAnim() { if (anim) { clearInterval(anim); anim = null; $("#bp-g-anim").textContent = "Animate"; } }

function startPlaying() {
  playing = true;
  clearInterval(player);
  player = setInterval(() => stream?.send({ type: "step", n: 1 }), pace); // paced: none pile up
  commands.send({ type: "step", n: 1 });
  renderButtons();
}

function stopPlaying() {
  playing = false;
  clearInterval(player);
  player = null;
  $("#bp-play").textContent = "▶ Play";
}

const controller = {
  toggle() { if (playing) stopPlaying(); else if (!frame?.diverged) startPlaying(); renderButtons(); },
  step() { commands.send({ type: "step", n: 1 }); },
  reset() { commands.send({ type: "reset" }); },
  faster() { setSpeed(1); },
  slower() { setSpeed(-1); },
  state: () => urlParams(),
  playing: () => playing,
  exportState: () => ({ lab: "backprop", params: urlParams(), frame }),
  importState: (obj) => importRun(obj),
  canvases: () => [$("#bp-network"), $("#bp-loss"), $("#bp-graph")],
};

function setSpeed(dir) {
  const i = Math.max(0, Math.min(PACES.length - 1, PACES.indexOf(pace) + dir));
  pace = PACES[i] ?? DEFAULT_PACE;
  if (playing) startPlaying();
}

$("#bp-controls").addEventListener("change", () => {
  let next;
  try { next = readControls(); } catch (err) { showError(err.message, "input"); return; }
  apply(next);
});
$("#bp-next").addEventListener("click", controller.step);
$("#bp-play").addEventListener("click", controller.toggle);
$("#bp-reset").addEventListener("click", controller.reset);
$("#bp-classic").addEventListener("click", () => apply({ ...CLASSIC }));
$("#bp-random").addEventListener("click", () => apply({ ...params, weights: null, bias_values: null, seed: params.seed + 1 }));
$("#bp-g-next").addEventListener("click", () => { stopAnim(); stopReveal(); gpos += 1; renderGraph(); });
$("#bp-g-back").addEventListener("click", () => { stopAnim(); stopReveal(); gpos -= 1; renderGraph(); });
$("#bp-g-all").addEventListener("click", () => { stopAnim(); stopReveal(); gpos = Infinity; renderGraph(); });
$("#bp-g-anim").addEventListener("click", () => {
  if (anim) return stopAnim();
  stopReveal();
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
