// The ConvNet lab page: creates a session from the URL's parameters, opens its stream, sends
// control changes, and hands each frame to the pictures (network, filters, curves, confusion
// matrix, image strip, drawing pad).

import { labReady, registerLab, syncURL } from "../shell.js";
import { openStream, postSession } from "../stream.js";
import { drawChart } from "../chart.js";
import {
  DATA_KEYS, SPEEDS, apiBody, coerce, describeDetail, fromConfig, pageKeys, stepsPerFrame, urlParams,
} from "./params.js";
import { ArchBuilder } from "./arch.js";
import { ConfusionMatrix } from "./confusion.js";
import { DrawingPad } from "./draw.js";
import { FilterPanel } from "./filters.js";
import { NetView } from "./netview.js";
import { ImageStrip } from "./strip.js";
import { PAPER, drawCells, fitCanvas, values } from "./pixels.js";

const API = "/api/v1/convnet";
const MAX_CURVE = 1500;
const $ = (sel) => document.querySelector(sel);
const root = $("#convnet");
const choices = JSON.parse($("#cn-choices").textContent);

const state = {
  params: coerce(JSON.parse($("#lab-params").textContent)),
  config: null,
  frame: null,
  session: null,
  stream: null,
  playing: false,
  ready: false,
  drawQueued: false,
  curve: emptyCurve(),
  test: null, // {key, images, labels, classes}
  waiting: [], // commands given while the session is being created
  cell: null, // [true, predicted] picked in the confusion matrix
  filtersWhen: "now",
  stripKey: "",
  stripAt: 0,
};

function emptyCurve() {
  return { step: [], trainLoss: [], testLoss: [], trainAcc: [], testAcc: [] };
}

// ----- messages ---------------------------------------------------------------------------
function showMessage(text, kind = "danger") {
  const box = $("#cn-message");
  box.className = `banner message ${kind}`;
  $("#cn-message-text").textContent = text;
  box.hidden = false;
}
$("#cn-message-close").addEventListener("click", () => { $("#cn-message").hidden = true; });

// ----- session and stream -----------------------------------------------------------------
async function post(body) {
  return postSession(`${API}/sessions`, body); // waits and retries while the server is full
}

function closeSession() {
  state.waiting = [];
  state.stream?.close();
  state.stream = null;
  if (state.session) fetch(`${API}/sessions/${state.session}`, { method: "DELETE", keepalive: true }).catch(() => {});
  state.session = null;
}

/** Create a session for `params` (the defaults, with a message, when they are rejected). */
async function start(params, { weights = null } = {}) {
  closeSession();
  state.params = params;
  state.curve = emptyCurve();
  let res = await post(apiBody(params));
  if (res.status === 422) {
    const detail = describeDetail((await res.json()).detail);
    showMessage(`These settings were rejected: ${detail}. Showing the default settings instead.`);
    state.params = { ...coerce({}), ...pageKeys(params) };
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
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ weights }),
    });
    if (!patch.ok) showMessage(`The weights were not imported: ${describeDetail((await patch.json()).detail)}`);
  }
  state.stream = openStream(`${API}/sessions/${body.id}/stream`, {
    config: onConfig, frame: onFrame, status: onStatus,
    error: (msg) => {
      showMessage(describeDetail(msg.message));
      if (state.config) { arch.key = ""; showConfig(state.config); }
    },
    session: (id) => { state.session = id; }, // the run was rebuilt elsewhere (stream.js)
  }, { recreate: () => start(state.params) }); // the session is gone: the same run again, from the URL
  if (state.params.example) send({ type: "set", params: { example: state.params.example } });
  for (const command of state.waiting.splice(0)) state.stream.send(command);
}

/** Send a command; one given before the session's stream exists waits for it. */
function send(command) {
  if (state.stream) state.stream.send(command);
  else state.waiting.push(command);
}

function setParams(changes) {
  $("#cn-message").hidden = true;
  send({ type: "set", params: changes });
}

function onConfig(msg) {
  const before = state.config;
  state.config = msg.config;
  if (msg.reset) { state.curve = emptyCurve(); state.frame = null; state.cell = null; }
  state.params = fromConfig(msg.config, pageKeys(state.params));
  showConfig(msg.config);
  send({ type: "speed", steps_per_frame: stepsPerFrame(state.params.speed, msg.config.resolved.batches_per_epoch) });
  syncURL(urlParams(state.params));
  if (!before || DATA_KEYS.some((k) => before[k] !== msg.config[k])) loadTestSet(msg.config);
  queueDraw();
}

function onFrame(msg) {
  let k = state.curve;
  if (k.step.length && msg.step < k.step[k.step.length - 1]) k = state.curve = emptyCurve(); // a reset
  const m = msg.metrics;
  if (m && (!k.step.length || msg.step > k.step[k.step.length - 1])) {
    k.step.push(msg.step); k.trainLoss.push(m.train_loss); k.testLoss.push(m.test_loss);
    k.trainAcc.push(m.train_accuracy === null ? null : 100 * m.train_accuracy);
    k.testAcc.push(m.test_accuracy === null ? null : 100 * m.test_accuracy);
    if (k.step.length > MAX_CURVE) { // keep every other point, and the newest
      for (const key of Object.keys(k)) k[key] = k[key].filter((_, i, a) => i % 2 === 0 || i === a.length - 1);
    }
  }
  state.frame = msg;
  queueDraw();
}

function onStatus(msg) {
  // Frames while playing read the test set every few steps; a stopped run gets an exact one.
  if (state.playing && !msg.playing) send({ type: "set", params: {} });
  state.playing = msg.playing;
  const btn = $("#cn-play");
  btn.setAttribute("aria-label", msg.playing ? "Pause" : "Play");
  btn.classList.toggle("playing", msg.playing);
}

async function loadTestSet(config) {
  const q = new URLSearchParams({ part: "test", seed: config.seed, train_percent: config.train_percent,
    n_images: config.n_images, image_size: config.image_size, noise: config.noise });
  const key = `${config.dataset}?${q}`;
  if (state.test?.key === key) return;
  const res = await fetch(`${API}/datasets/${config.dataset}?${q}`);
  if (!res.ok) return;
  const body = await res.json();
  state.test = { key, images: body.images, labels: values(body.labels), classes: body.classes };
  state.stripKey = "";
  queueDraw();
}

// ----- controls -----------------------------------------------------------------------------
function readControl(input) {
  const type = input.dataset.type;
  if (type === "int") return parseInt(input.value, 10);
  if (type === "float") return Number(input.value);
  return input.value;
}

function ensureOption(select, value, label) {
  const v = String(value);
  if (![...select.options].some((o) => o.value === v)) select.add(new Option(label ?? v, v));
  select.value = v;
}

function showControls(p) {
  for (const el of root.querySelectorAll("[data-param]")) {
    const v = p[el.dataset.param];
    if (v === undefined || v === null) continue;
    if (el.tagName === "SELECT") ensureOption(el, v, el.dataset.type === "float" ? String(+v) : undefined);
    else el.value = v;
  }
  for (const el of root.querySelectorAll("[data-shapes]")) el.classList.toggle("cn-off", p.dataset !== "shapes");
}

function showConfig(config) {
  showControls(state.params);
  arch.show(config);
  const r = config.resolved;
  const digits = config.dataset === "digits";
  $("#cn-draw-h").textContent = digits ? "Draw a digit" : "Draw a shape";
  $("#cn-draw-note").textContent = digits ? "Draw large: it is cropped and scaled like the UCI digits."
    : "The whole pad is averaged down to the image size: where you draw matters.";
  $("#cn-data-note").textContent =
    `${r.n_train} training and ${r.n_test} test images of ${r.image_shape[1]}×${r.image_shape[2]} pixels, ` +
    `${r.classes.length} classes · ${r.batches_per_epoch} mini-batches an epoch`;
}

root.addEventListener("change", (ev) => {
  const el = ev.target;
  const name = el.dataset?.param;
  if (!name) return;
  const value = readControl(el);
  if (el.dataset.page) {
    state.params[name] = value;
    if (name === "speed" && state.config) {
      send({ type: "speed", steps_per_frame: stepsPerFrame(value, state.config.resolved.batches_per_epoch) });
    }
    syncURL(urlParams(state.params));
    return;
  }
  if (name === "optimizer") setParams({ optimizer: value, optimizer_params: {} });
  else setParams({ [name]: value });
});
for (const radio of root.querySelectorAll('input[name="cn-filters-when"]')) {
  radio.addEventListener("change", () => { state.filtersWhen = radio.value; queueDraw(); });
}

function chooseExample(index) {
  const n = state.config?.resolved.n_test ?? 1;
  const k = ((index % n) + n) % n;
  state.params.example = k;
  syncURL(urlParams(state.params));
  setParams({ example: k });
}
$("#cn-prev").addEventListener("click", () => chooseExample(currentIndex() - 1));
$("#cn-next").addEventListener("click", () => chooseExample(currentIndex() + 1));

function currentIndex() {
  const maps = state.frame?.maps;
  return maps?.source === "test" ? maps.index : state.params.example;
}

// ----- drawing ------------------------------------------------------------------------------
function queueDraw() {
  if (state.drawQueued) return;
  state.drawQueued = true;
  requestAnimationFrame(() => { state.drawQueued = false; draw(); });
}

const pct = (a) => (a === null || a === undefined ? "–" : `${(100 * a).toFixed(1)} %`);
const loss = (v) => (v === null || v === undefined ? "not finite" : Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(3));

function draw() {
  const f = state.frame, config = state.config;
  if (!f || !config) return;
  const m = f.metrics || {};
  const classes = config.resolved.classes;
  $("#cn-step-count").textContent = f.step.toLocaleString("en-US");
  $("#cn-epoch").textContent = String(f.epoch);
  $("#cn-test-acc").textContent = pct(m.test_accuracy);
  $("#cn-test-loss").textContent = loss(m.test_loss);
  $("#cn-train-loss").textContent = loss(m.train_loss);
  $("#cn-train-acc").textContent = pct(m.train_accuracy);
  $("#cn-diverged").hidden = !f.diverged;
  arch.showNorms(m.grad_norms);

  const maps = f.maps;
  if (maps) {
    $("#cn-example-label").textContent = maps.source === "test"
      ? `test image ${maps.index + 1} of ${config.resolved.n_test} · label ${classes[maps.label]}`
      : "your drawing";
    net.draw({ maps, filters: f.filters, classes });
  }
  const filters = state.filtersWhen === "initial" ? config.initial_filters : f.filters;
  if (filters) filterPanel.draw(filters);
  $("#cn-filters-hint").hidden = !Object.values(filters || {}).some((g) => g.shape[1] === 1);
  drawCurves();
  confusion.draw(f.confusion, classes);
  drawStrip();
  drawSeen(maps, classes);
  if (!state.ready) {
    state.ready = true;
    labReady(); // marks the page drawn and starts ?autoplay=1
  }
}

function drawCurves() {
  const c = state.curve;
  if (!c.step.length) return;
  const finite = [...c.trainLoss, ...c.testLoss].filter((v) => v !== null && v > 0);
  const spread = finite.length ? Math.max(...finite) / Math.min(...finite) : 1;
  drawChart($("#cn-loss-chart"), {
    x: c.step, xLabel: "step", yLabel: "loss", integerX: true, log: spread > 1e4, // a blow-up stays readable
    series: [
      { values: c.testLoss, color: "#202124", label: "test" },
      { values: c.trainLoss, color: "#9aa0a6", label: "training", dash: [5, 3] },
    ],
  });
  drawChart($("#cn-acc-chart"), {
    x: c.step, xLabel: "step", yLabel: "accuracy %", integerX: true,
    series: [
      { values: c.testAcc, color: "#0877bd", label: "test" },
      { values: c.trainAcc, color: "#8ab4d8", label: "training", dash: [5, 3] },
    ],
  });
}

function stripItems(predicted, labels) {
  const items = [];
  for (let i = 0; i < labels.length; i++) {
    if (state.cell ? labels[i] === state.cell[0] && predicted[i] === state.cell[1] : labels[i] !== predicted[i]) items.push(i);
  }
  return items;
}

function drawStrip() {
  const f = state.frame, test = state.test;
  if (!f?.predictions || !test) return;
  const now = performance.now();
  const predicted = values(f.predictions.predicted);
  const key = `${test.key}|${state.cell}|${f.predictions.predicted.data}|${currentIndex()}|${f.maps?.source}`;
  if (key === state.stripKey) return;
  if (state.playing && now - state.stripAt < 250) { setTimeout(queueDraw, 260); return; } // at most 4 a second
  state.stripKey = key;
  state.stripAt = now;
  const items = stripItems(predicted, test.labels);
  const classes = test.classes;
  const n = items.length;
  $("#cn-strip-title").textContent = state.cell
    ? `True ${classes[state.cell[0]]}, predicted ${classes[state.cell[1]]}: ${n} image${n === 1 ? "" : "s"}`
    : `Mistakes: ${n} of ${test.labels.length} test images`;
  $("#cn-strip-all").hidden = !state.cell;
  strip.chosen = f.maps?.source === "test" ? f.maps.index : null;
  strip.draw({ images: test.images, items, predicted, labels: test.labels, classes });
  confusion.selected = state.cell;
}

function drawSeen(maps, classes) {
  const seen = $("#cn-seen");
  const { ctx, W } = fitCanvas(seen, 80, 80);
  const own = maps?.source === "drawing";
  if (own) {
    const [h, w] = maps.input.shape;
    const cell = Math.floor(W / Math.max(h, w));
    drawCells(ctx, values(maps.input), 0, h, w, (W - cell * w) / 2, (W - cell * h) / 2, cell, PAPER);
  }
  const p = own && maps.prediction !== null ? maps.probs[maps.prediction] : null;
  $("#cn-draw-pred").textContent = own && p !== null
    ? `Prediction: ${classes[maps.prediction]} (${Math.round(100 * p)} %)` : "";
}

// ----- parts --------------------------------------------------------------------------------
const net = new NetView($("#cn-net"), $(".cn-net-box"));
const filterPanel = new FilterPanel($("#cn-filter-layers"));
const confusion = new ConfusionMatrix($("#cn-confusion"), (cell) => {
  const same = state.cell && state.cell[0] === cell[0] && state.cell[1] === cell[1];
  state.cell = same ? null : cell;
  confusion.selected = state.cell;
  state.stripKey = "";
  queueDraw();
});
const strip = new ImageStrip($("#cn-strip"), (index) => chooseExample(index));
$("#cn-strip-all").addEventListener("click", () => { state.cell = null; state.stripKey = ""; queueDraw(); });
const arch = new ArchBuilder($("#cn-layers"), {
  activations: choices.activations, budget: $("#cn-budget"),
  addButtons: [...root.querySelectorAll("[data-add]")],
  onChange: (layers) => setParams({ layers }),
});
const pad = new DrawingPad($("#cn-pad"), (drawing) => setParams({ drawing }));
$("#cn-clear").addEventListener("click", () => {
  pad.clear();
  setParams({ drawing: null });
});
new ResizeObserver(() => { state.stripKey = ""; queueDraw(); }).observe($(".cn-net-box"));
window.addEventListener("resize", queueDraw);

// ----- transport ----------------------------------------------------------------------------
function toggle() {
  send({ type: state.playing ? "pause" : "play" });
}
function step() {
  send({ type: "step", n: 1 });
}
function reset() {
  send({ type: "reset" });
}
function changeSpeed(delta) {
  const i = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.indexOf(state.params.speed) + delta));
  const select = $('[data-param="speed"]');
  select.value = SPEEDS[i];
  select.dispatchEvent(new Event("change", { bubbles: true }));
}
$("#cn-play").addEventListener("click", toggle);
$("#cn-step").addEventListener("click", step);
$("#cn-reset").addEventListener("click", reset);

/** The page's pictures as tests and tools see them: the matrix, a cell's place, the strip. */
function inspect(t = null, p = null) {
  const r = $("#cn-confusion").getBoundingClientRect();
  const at = t === null ? null : confusion.cellCentre(t, p);
  return {
    session: state.session,
    confusion: state.frame?.confusion ?? null,
    cell: state.cell,
    strip: strip.items,
    stripTitle: $("#cn-strip-title").textContent,
    example: state.frame?.maps ? { source: state.frame.maps.source, index: state.frame.maps.index ?? null,
      prediction: state.frame.maps.prediction, probs: state.frame.maps.probs } : null,
    testAccuracy: state.frame?.metrics?.test_accuracy ?? null,
    step: state.frame?.step ?? null,
    cellPoint: at && { x: r.left + at.x, y: r.top + at.y },
  };
}

registerLab({
  toggle, step, reset, playing: () => state.playing,
  faster: () => changeSpeed(+1), slower: () => changeSpeed(-1),
  state: () => urlParams(state.params),
  inspect,
  exportState: async () => {
    const res = state.session ? await fetch(`${API}/sessions/${state.session}?include=weights&include=history`) : null;
    const body = res?.ok ? await res.json() : {};
    return {
      lab: "convnet", version: 1, config: apiBody(state.params), page: pageKeys(state.params),
      step: body.step, epoch: body.epoch, metrics: body.metrics, weights: body.weights, history: body.history,
    };
  },
  importState: (obj) => {
    const params = coerce({ ...(obj.config || obj.params || {}), ...(obj.page || {}) });
    state.config = null; state.frame = null;
    return start(params, { weights: obj.weights || null });
  },
  canvases: () => [$("#cn-net"), ...document.querySelectorAll(".cn-filters canvas"), $("#cn-loss-chart"),
    $("#cn-acc-chart"), $("#cn-confusion")],
});

window.addEventListener("pagehide", closeSession);
showControls(state.params);
start(state.params);
