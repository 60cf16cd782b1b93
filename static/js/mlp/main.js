// The MLP playground page: creates a session from the URL's parameters, opens its stream,
// sends control changes, and hands each frame to the canvases (network, output, loss chart).

import { labReady, registerLab, syncURL } from "../shell.js";
import { commandQueue, openStream, postSession } from "../stream.js";
import { drawChart } from "../chart.js";
import { CLASS_COLORS, css } from "../colors.js";
import {
  PAGE_DEFAULTS, SPEEDS, apiBody, coerce, describeDetail, fromConfig, stepsPerFrame, urlParams,
} from "./params.js";
import { bindControls, readHyper, showControls, showHyper } from "./controls.js";
import { NetworkDiagram } from "./network.js";
import { OutputPlot, labelColor } from "./output.js";
import { drawGradients } from "./gradients.js";

const API = "/api/v1/mlp";
const MAX_NEURONS_UI = 8; // the TF Playground's cap; links may ask for up to the server's

const $ = (sel) => document.querySelector(sel);
const form = $("#mlp");
const choices = JSON.parse($("#mlp-choices").textContent);
const featureChoices = choices.features;

const state = {
  params: coerce(JSON.parse($("#lab-params").textContent)),
  config: null, // the server's config message (resolved values and the data)
  frame: null,
  session: null,
  stream: null,
  commands: commandQueue(), // what the page sends before its session (or its next one) exists
  playing: false,
  draft: null, // points being drawn after "Clear", before there are enough to train on
  added: null, // the clicked points as this page sent them (ahead of the server's answers)
  addLabel: 1,
  drawQueued: false,
};

// ----- messages ------------------------------------------------------------------------
function showMessage(text, kind = "danger", { field = false } = {}) {
  const box = $("#mlp-message");
  box.className = `banner message ${kind}`;
  box.dataset.field = field ? "1" : ""; // a field's error goes once a change is accepted
  $("#mlp-message-text").textContent = text;
  box.hidden = false;
}
$("#mlp-message-close").addEventListener("click", () => { $("#mlp-message").hidden = true; });

// ----- session and stream --------------------------------------------------------------
async function post(body) {
  return postSession(`${API}/sessions`, body); // waits and retries while the server is full
}

function closeSession() {
  state.commands.detach();
  state.stream?.close();
  state.stream = null;
  if (state.session) {
    fetch(`${API}/sessions/${state.session}`, { method: "DELETE", keepalive: true }).catch(() => {});
  }
  state.session = null;
}

function pageKeys(p) {
  return Object.fromEntries(Object.keys(PAGE_DEFAULTS).map((k) => [k, p[k]]));
}

/** Create a session for `params` (the defaults, with a message, when they are rejected);
 * `weights` and `progress` (step, epoch, history) continue an exported run. */
async function start(params, { weights = null, progress = null } = {}) {
  closeSession();
  state.params = params;
  state.added = params.added ?? null;
  let res = await post(apiBody(params));
  if (res.status === 422) {
    const detail = describeDetail((await res.json()).detail);
    showMessage(`These settings were rejected: ${detail}. Showing the default settings instead.`);
    state.params = { ...coerce({}), ...pageKeys(params) };
    state.added = null;
    res = await post(apiBody(state.params));
  }
  if (!res.ok) {
    const detail = await res.json().catch(() => ({ detail: res.statusText }));
    showMessage(`Could not start a run: ${describeDetail(detail.detail)}`);
    return;
  }
  const body = await res.json();
  state.session = body.id;
  if (weights) {
    const patch = await fetch(`${API}/sessions/${body.id}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(progress ? { weights, progress } : { weights }),
    });
    if (!patch.ok) showMessage(`The weights were not imported: ${describeDetail((await patch.json()).detail)}`);
  }
  state.stream = openStream(`${API}/sessions/${body.id}/stream`, {
    config: onConfig, frame: onFrame, status: onStatus,
    error: (msg) => {
      showMessage(describeDetail(msg.message), "danger", { field: true });
      showControls(form, state.params, state.config?.resolved);
    },
    session: (id) => { state.session = id; }, // the run was rebuilt elsewhere (stream.js)
  }, { binary: true, recreate: () => start(state.params) }); // no journal to rebuild from: from the URL
  state.commands.attach(state.stream);
}

function send(command) {
  state.commands.send(command);
}

function setParams(changes) {
  send({ type: "set", params: changes });
}

function onConfig(msg) {
  const config = msg.config;
  const before = state.config;
  state.config = config;
  if ($("#mlp-message").dataset.field) $("#mlp-message").hidden = true; // the change was accepted
  if (msg.reset) state.frame = null; // the old run's frame does not fit the new config
  state.params = fromConfig(config, pageKeys(state.params));
  showControls(form, state.params, config.resolved);
  showLayerLimit();
  const structure = structureOf(config);
  if (!before || JSON.stringify(structureOf(before)) !== JSON.stringify(structure)) network.build(structure);
  send({ type: "speed", steps_per_frame: stepsPerFrame(state.params.speed, config.resolved.batches_per_epoch) });
  syncURL(urlParams(state.params));
  const r = config.resolved;
  const lossName = choices.losses.find((l) => l.name === r.loss)?.label ?? r.loss;
  $("#mlp-resolved").textContent =
    `${lossName}, ${r.output_activation} output · ${r.parameters} weights and biases · ` +
    `${config.data.train.length} train / ${config.data.test.length} test points`;
  buildClassPicker(r.problem, config.num_classes);
  queueDraw();
}

function structureOf(config) {
  return {
    active: config.features, hidden: config.hidden,
    nOut: config.resolved.sizes[config.resolved.sizes.length - 1],
    problem: config.resolved.problem, k: config.num_classes,
  };
}

function onFrame(msg) {
  // While playing, three frames in four are light (app/labs/mlp/session.py light_frame): they
  // bring the output map, metrics and weights; the thumbnails, the diagnosis and the loss
  // history stay those of the last full frame, and the chart goes on from the metrics.
  const prev = state.frame;
  if (prev?.grids && msg.grids && !msg.grids.neurons) {
    msg.grids = { ...prev.grids, ...msg.grids };
    msg.detailEpoch = prev.detailEpoch; // the thumbnails' epoch, behind while playing
  } else msg.detailEpoch = msg.epoch;
  if (!msg.history && prev?.history) msg.history = withPoint(prev.history, msg.metrics);
  if (!msg.diagnosis && prev?.diagnosis) msg.diagnosis = prev.diagnosis;
  state.frame = msg;
  queueDraw();
}

function withPoint(h, m) {
  const last = h.epochs[h.epochs.length - 1];
  if (!m || m.epoch <= last) return h;
  return { epochs: [...h.epochs, m.epoch], train_loss: [...h.train_loss, m.train_loss],
    test_loss: [...h.test_loss, m.test_loss] };
}

function onStatus(msg) {
  state.playing = msg.playing;
  const btn = $("#mlp-play");
  btn.setAttribute("aria-label", msg.playing ? "Pause" : "Play");
  btn.classList.toggle("playing", msg.playing);
}

// ----- drawing (at most once per animation frame, always the newest frame) -------------
function queueDraw() {
  if (state.drawQueued) return;
  state.drawQueued = true;
  requestAnimationFrame(() => { state.drawQueued = false; draw(); });
}

function fmtLoss(v) {
  return v === null || v === undefined ? "–" : Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(3);
}

function draw() {
  const f = state.frame, config = state.config;
  if (!f || !config) return;
  const m = f.metrics || {};
  $("#mlp-epoch").textContent = String(f.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const diverged = !!(f.diverged || m.diverged);
  $("#mlp-test-loss").textContent = diverged && m.test_loss === null ? "not finite" : fmtLoss(m.test_loss);
  $("#mlp-train-loss").textContent = diverged && m.train_loss === null ? "not finite" : fmtLoss(m.train_loss);
  const problem = config.resolved.problem;
  $("#mlp-acc-row").hidden = problem === "regression";
  const pct = (a) => (a === null || a === undefined ? "–" : `${(100 * a).toFixed(1)} %`);
  $("#mlp-acc").textContent = `${pct(m.train_accuracy)} train · ${pct(m.test_accuracy)} test`;
  $("#mlp-diverged").hidden = !diverged;
  // What holds the run back, as the engine diagnosed it (dead units, saturation, a stall).
  const dg = f.diagnosis;
  $("#mlp-diagnosis").hidden = diverged || !dg || dg.state === "ok";
  if (dg) $("#mlp-diagnosis").textContent = dg.messages.join(" ");
  drawGradients($("#mlp-grads"), $("#mlp-grads-caption"), dg?.grad_norms);
  const h = f.history;
  if (h) {
    const finite = [...h.train_loss, ...h.test_loss].filter((v) => v !== null && v > 0);
    const spread = finite.length ? Math.max(...finite) / Math.min(...finite) : 1;
    drawChart($("#mlp-loss"), {
      x: h.epochs, xLabel: "epoch", log: spread > 1e4, integerX: true, legend: true, // a blow-up stays readable
      series: [
        { values: h.test_loss, color: "#202124", label: "test" },
        { values: h.train_loss, color: "#9aa0a6", label: "train", dash: [5, 3] },
      ],
    });
  }
  const draft = state.draft;
  const grids = f.grids;
  // A frame from before a problem change may lack the class confidences: draw no map then.
  const fits = grids && (problem === "multiclass") === Boolean(grids.confidence);
  plot.draw({
    output: draft || !fits ? null : grids.output, confidence: grids?.confidence,
    problem, k: config.num_classes,
    train: draft ?? config.data.train, test: draft ? [] : config.data.test,
    showTest: state.params.show_test, discretize: state.params.discretize, diverged,
  });
  network.update(f);
  $("#mlp-network").dataset.detailEpoch = f.detailEpoch ?? f.epoch; // once paused, the epoch shown
  if (!state.ready) {
    state.ready = true;
    labReady(); // marks the page drawn and starts ?autoplay=1
  }
}

// ----- controls --------------------------------------------------------------------------
function datasetsOf(problem) {
  return choices.datasets.filter((d) => d.problem === problem).map((d) => d.name);
}

function onControl(name, value) {
  const p = state.params;
  if (name in PAGE_DEFAULTS) {
    p[name] = value;
    if (name === "speed" && state.config) {
      send({ type: "speed", steps_per_frame: stepsPerFrame(value, state.config.resolved.batches_per_epoch) });
    }
    syncURL(urlParams(p));
    queueDraw();
    return;
  }
  if (name === "dataset") {
    state.draft = null;
    state.added = null;
    setParams({ dataset: value, points: null, added: null, problem: null });
  } else if (name === "problem") {
    state.draft = null;
    state.added = null;
    setParams({ dataset: datasetsOf(value)[0], points: null, added: null, problem: null, loss: null });
  } else if (name === "optimizer") {
    setParams({ optimizer: value, optimizer_params: {} });
  } else {
    setParams({ [name]: value });
  }
}

bindControls(form, onControl);
$("#opt-params").addEventListener("change", () => setParams({ optimizer_params: readHyper(form) }));
document.body.addEventListener("htmx:afterSwap", (ev) => {
  if (ev.target.id === "opt-params") showHyper(form, {});
});

function toggleFeature(name) {
  const active = new Set(state.params.features);
  if (active.has(name)) active.delete(name); else active.add(name);
  if (!active.size) {
    showMessage("Keep at least one input feature.", "info");
    return;
  }
  setParams({ features: featureChoices.map((f) => f.name).filter((n) => active.has(n)) });
}

function changeNeurons(layer, delta) {
  const hidden = [...state.params.hidden];
  hidden[layer] = Math.max(1, Math.min(MAX_NEURONS_UI, hidden[layer] + delta));
  setParams({ hidden });
}

const maxLayers = () => Math.min(6, choices.limits.max_layers);

/** "+" layer disabled at the most layers, saying so (on the button and beside the count). */
function showLayerLimit() {
  const n = state.params.hidden.length, most = maxLayers();
  const add = $("#mlp-add-layer");
  add.disabled = n >= most;
  add.title = add.disabled ? `At most ${most} hidden layers in this lab` : "Add a hidden layer";
  $("#mlp-remove-layer").disabled = n === 0;
  if (add.disabled) $("#mlp-layer-word").textContent += " (the most)";
}

$("#mlp-add-layer").addEventListener("click", () => {
  const hidden = state.params.hidden;
  if (hidden.length >= maxLayers()) return;
  setParams({ hidden: [...hidden, 2] });
});
$("#mlp-remove-layer").addEventListener("click", () => {
  if (state.params.hidden.length) setParams({ hidden: state.params.hidden.slice(0, -1) });
});
$("#mlp-regenerate").addEventListener("click", () => {
  setParams({ seed: Math.floor(Math.random() * 2 ** 31) });
});

// ----- your own points ------------------------------------------------------------------
function buildClassPicker(problem, k) {
  const box = $("#mlp-classes");
  const options = problem === "multiclass" ? [...Array(k).keys()].map((c) => [c, `class ${c}`])
    : problem === "regression" ? [[1, "+1"], [-1, "−1"]] : [[1, "blue"], [-1, "orange"]];
  if (!options.some(([v]) => v === state.addLabel)) state.addLabel = options[0][0];
  const key = JSON.stringify(options);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...options.map(([v, text]) => {
    const label = document.createElement("label");
    label.className = "swatch";
    const input = document.createElement("input");
    input.type = "radio"; input.name = "add_label"; input.value = v;
    input.checked = v === state.addLabel;
    input.addEventListener("change", () => { state.addLabel = v; });
    const dot = document.createElement("i");
    dot.style.background = css(problem === "multiclass" ? CLASS_COLORS[v] : labelColor(v, problem));
    label.append(input, dot, ` ${text}`);
    return label;
  }));
}

/** A clicked point joins the training set of the running network (`added`: no restart, no
 * new split); after Clear, drawn points are the data, every one of them training. */
function addPoint(x1, x2) {
  const config = state.config;
  if (!config) return;
  const point = [+x1.toFixed(2), +x2.toFixed(2), state.addLabel];
  const limit = choices.limits.max_points;
  if (state.draft) {
    state.draft.push(point);
    if (state.draft.length < 2) { queueDraw(); return; }
    state.added = state.draft;
    commitPoints({ points: [], added: state.added, problem: config.resolved.problem });
    return;
  }
  if (config.data.train.length + config.data.test.length + 1 > limit) {
    showMessage(`At most ${limit} points; press Clear to start over.`, "info");
    return;
  }
  config.data.train.push(point); // drawn at once; the server's config confirms it
  queueDraw();
  state.added = [...(state.added || []), point]; // quick clicks each keep the ones before
  commitPoints({ added: state.added });
}

function commitPoints(changes) {
  state.draft = null;
  $("#mlp-message").hidden = true;
  setParams(changes);
}

$("#mlp-clear").addEventListener("click", () => {
  send({ type: "pause" });
  state.draft = [];
  showMessage("Click on the output plot to add points of the chosen class (training starts from 2 points).", "info");
  queueDraw();
});

// ----- transport ------------------------------------------------------------------------
function toggle() {
  send({ type: state.playing ? "pause" : "play" });
}
function stepEpoch() {
  send({ type: "step", n: state.config?.resolved.batches_per_epoch ?? 1 });
}
function reset() {
  send({ type: "reset" });
}
function changeSpeed(delta) {
  const i = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.indexOf(state.params.speed) + delta));
  $('[data-param="speed"]').value = SPEEDS[i];
  onControl("speed", SPEEDS[i]);
}
$("#mlp-play").addEventListener("click", toggle);
$("#mlp-step").addEventListener("click", stepEpoch);
$("#mlp-reset").addEventListener("click", reset);

const network = new NetworkDiagram($("#mlp-network"), {
  features: featureChoices, tip: $("#mlp-tip"), maxNeurons: MAX_NEURONS_UI,
  onToggleFeature: toggleFeature, onNeurons: changeNeurons,
});
const plot = new OutputPlot($("#mlp-output"), { onClick: addPoint });
new ResizeObserver(() => queueDraw()).observe($("#mlp-output"));
window.addEventListener("resize", queueDraw); // e.g. a PNG export redraws at twice the resolution

registerLab({
  toggle, step: stepEpoch, reset, playing: () => state.playing,
  faster: () => changeSpeed(+1), slower: () => changeSpeed(-1),
  state: () => urlParams(state.params),
  exportState: () => ({
    lab: "mlp", version: 1,
    config: apiBody(state.params), page: pageKeys(state.params),
    step: state.frame?.step, epoch: state.frame?.epoch, metrics: state.frame?.metrics,
    weights: state.frame?.weights, history: state.frame?.history,
  }),
  importState: (obj) => {
    const params = coerce({ ...(obj.config || obj.params || {}), ...(obj.page || {}) });
    state.config = null; state.frame = null; state.draft = null;
    const h = obj.history;
    const progress = h && Number.isInteger(obj.step) && Number.isInteger(obj.epoch)
      ? { step: obj.step, epoch: obj.epoch, history: h } : null;
    return start(params, { weights: obj.weights || null, progress });
  },
  canvases: () => [$("#mlp-output"), $("#mlp-loss")],
  picture: () => [$("#mlp-network"), $("#mlp-loss"), $("#mlp-output")], // the PNG: network and plots
});

window.addEventListener("pagehide", closeSession);
showControls(form, state.params, {
  problem: choices.datasets.find((d) => d.name === state.params.dataset)?.problem,
});
start(state.params);
