// The self-supervised lab page: a session from the URL's parameters, its stream, the controls
// (τ, N, augmentations, data) and every frame drawn: the similarity matrix, the held-out
// embedding, the views, the chosen row's softmax, the curves; probe, sweep and neighbours.

import { labReady, registerLab, syncURL } from "../shell.js";
import { commandQueue, openStream, postSession } from "../stream.js";
import { drawChart } from "../chart.js";
import { decode, rawValues } from "../grid.js";
import { TRANSFORMS, apiBody, coerce, describeDetail, fromConfig, urlParams } from "./params.js";
import {
  CLASS_PALETTE, drawImage, drawMatrix, drawRow, drawScatter, f32, matrixRowAt, pointAt,
} from "./draw.js";
import { showNeighbours, showProbe, showSweep } from "./evaluate.js";

const API = "/api/v1/selfsupervised";
const SPEEDS = [1, 2, 5, 10, 20];
const MAX_PAIRS = 12; // pairs the views panel shows
const $ = (id) => document.getElementById(id);
const choices = JSON.parse($("ssl-choices").textContent);
const TAUS = $("ssl-tau").dataset.values.split(",").map(Number);
const SIZES = $("ssl-n").dataset.values.split(",").map(Number);

const state = {
  params: coerce(JSON.parse($("lab-params").textContent)),
  config: null, frame: null, session: null, stream: null, playing: false, ready: false,
  heldout: null, // {images, labels: Uint8Array, classes}
  coords: null, m: 1, // the held-out 2-D view, decoded
  selected: null, neighbours: [],
  jobs: { probe: null, sweep: null }, polling: null, drawQueued: false,
};

// ---------------------------------------------------------------- messages
function showMessage(text) {
  const box = $("ssl-message");
  box.textContent = text;
  box.hidden = !text;
}

// ---------------------------------------------------------------- session and stream
async function post(path, body, method = "POST") {
  return fetch(`${API}${path}`, {
    method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
}

const commands = commandQueue(); // what the page sends before its session (or its next one) exists
let starts = 0; // the newest start() wins; an older one still waiting gives its session back

/** Create a session (waiting while the server is full); null when a newer start() superseded it. */
async function createSession(body, start) {
  const res = await postSession(`${API}/sessions`, body);
  if (start === starts) return res;
  if (res.ok) {
    const { id } = await res.json();
    fetch(`${API}/sessions/${id}`, { method: "DELETE", keepalive: true }).catch(() => {});
  }
  return null;
}

function closeSession() {
  commands.detach();
  state.stream?.close();
  state.stream = null;
  if (state.session) fetch(`${API}/sessions/${state.session}`, { method: "DELETE", keepalive: true }).catch(() => {});
  state.session = null;
}

async function start(params) {
  closeSession();
  state.params = params;
  state.jobs = { probe: null, sweep: null };
  showProbe(null);
  const start = ++starts;
  let res = await createSession(apiBody(params), start);
  if (!res) return;
  if (res.status === 422) {
    const detail = describeDetail((await res.json()).detail);
    showMessage(`These settings were rejected: ${detail}. Showing the default settings instead.`);
    state.params = coerce({ speed: params.speed });
    res = await createSession(apiBody(state.params), start);
    if (!res) return;
  }
  if (!res.ok) {
    showMessage(`Could not start a run: ${describeDetail((await res.json().catch(() => ({}))).detail)}`);
    return;
  }
  const body = await res.json();
  state.session = body.id;
  state.stream = openStream(`${API}/sessions/${body.id}/stream`, {
    config: onConfig, frame: onFrame, status: onStatus,
    error: (msg) => { showMessage(describeDetail(msg.message)); showControls(); },
    session: (id) => { state.session = id; }, // the run was rebuilt elsewhere (stream.js)
  }, { recreate: () => start(state.params) }); // the session is gone: the same run again, from the URL
  commands.attach(state.stream);
}

const send = (command) => commands.send(command);
const setParams = (changes) => send({ type: "set", params: changes });

async function loadHeldout(key) {
  const res = await fetch(`${API}/sessions/${state.session}?include=heldout`);
  if (!res.ok) return;
  const h = (await res.json()).heldout;
  state.heldout = { key, images: h.images, labels: rawValues(h.labels), classes: h.classes };
}

async function onConfig(msg) {
  const config = msg.config;
  if (state.heldout?.key !== config.heldout_key) {
    state.heldout = null;
    await loadHeldout(config.heldout_key);
  }
  state.config = config;
  if (msg.reset) {
    state.frame = null; state.selected = null; state.neighbours = [];
    state.jobs = { probe: null, sweep: null };
    showProbe(null);
  }
  state.params = fromConfig(config, state.params);
  showControls();
  send({ type: "speed", steps_per_frame: state.params.speed });
  syncURL(urlParams(state.params));
  const r = config.resolved;
  $("ssl-resolved").textContent = `${r.train_images} training images (their labels unused), ` +
    `${r.heldout_images} held out · encoder ${r.encoder} (h: ${r.h_dim} numbers) · head ${r.head} · ` +
    `${r.parameters.toLocaleString("en")} parameters`;
  for (const el of document.querySelectorAll(".data-noun")) el.textContent = config.dataset === "digits" ? "digits" : "shapes";
  queueDraw();
}

function onFrame(msg) {
  state.frame = msg;
  for (const kind of ["probe", "sweep"]) if (msg[kind] !== undefined) takeJob(kind, msg[kind]);
  queueDraw();
}

function onStatus(msg) {
  state.playing = msg.playing;
  const btn = $("ssl-play");
  btn.classList.toggle("playing", msg.playing);
  btn.setAttribute("aria-label", msg.playing ? "Pause" : "Play");
}

// ---------------------------------------------------------------- background jobs
function takeJob(kind, job) {
  const old = state.jobs[kind];
  if (job && old && job.version === old.version && job.state === old.state) return;
  state.jobs[kind] = job;
  if (kind === "probe") showProbe(job); else showSweep(job);
  const running = Object.values(state.jobs).some((j) => j && (j.state === "running" || j.state === "queued"));
  if (running && !state.polling) state.polling = setInterval(poll, 500);
  if (!running && state.polling) { clearInterval(state.polling); state.polling = null; }
}

async function poll() {
  if (!state.session || state.playing) return; // while playing, frames carry the jobs
  for (const kind of ["probe", "sweep"]) {
    const job = state.jobs[kind];
    if (!job || !(job.state === "running" || job.state === "queued")) continue;
    const res = await fetch(`${API}/sessions/${state.session}/${kind}`);
    if (res.ok) takeJob(kind, (await res.json())[kind]);
  }
}

async function runProbe() {
  if (!state.session) return;
  $("ssl-probe-run").disabled = true;
  const res = await post(`/sessions/${state.session}/probe`, { wait: false });
  if (!res.ok) { showMessage(`The probe did not start: ${describeDetail((await res.json()).detail)}`); return; }
  takeJob("probe", await res.json());
}

async function runSweep() {
  if (!state.session) return;
  const sizes = SIZES.filter((n) => n <= choices.limits.max_batch);
  const res = await post(`/sessions/${state.session}/sweep`,
    { taus: [0.05, 0.1, 0.2, 0.5, 1.0], batch_sizes: sizes, steps: 200 });
  if (!res.ok) { showMessage(`The sweep did not start: ${describeDetail((await res.json()).detail)}`); return; }
  takeJob("sweep", await res.json());
}

async function stopSweep() {
  if (state.session) await fetch(`${API}/sessions/${state.session}/sweep`, { method: "DELETE" });
}

async function neighboursOf(index) {
  if (!state.session) return;
  const res = await fetch(`${API}/sessions/${state.session}/neighbours?index=${index}&k=8`);
  if (!res.ok) return;
  const answer = await res.json();
  state.selected = index;
  state.neighbours = answer.neighbours.map((n) => n.index);
  showNeighbours(answer, state.heldout.classes);
  queueDraw();
}

// ---------------------------------------------------------------- drawing
function queueDraw() {
  if (state.drawQueued) return;
  state.drawQueued = true;
  requestAnimationFrame(() => { state.drawQueued = false; draw(); });
}

const fmt = (v, d = 3) => (v === null || v === undefined ? "–" : v.toFixed(d));
const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)} %`);

function draw() {
  const f = state.frame;
  if (!f || !state.config || !state.heldout) return;
  const m = f.metrics, b = f.batch, n = b.n;
  $("ssl-step-count").textContent = f.step.toLocaleString("en");
  $("ssl-loss").textContent = f.diverged ? "not finite" : fmt(m.loss);
  if (f.diverged) showMessage("Training diverged: the loss became infinite or NaN. Lower the learning rate, then reset.");

  // the similarity matrix and what it says
  drawMatrix($("ssl-matrix"), { sims: b.sims, row: f.row.index });
  const gap = (m.positive_similarity ?? 0) - (m.negative_similarity ?? 0);
  const sims = $("ssl-sims");
  sims.innerHTML = "";
  const verdict = document.createElement("span");
  verdict.className = "verdict";
  verdict.textContent = gap > 0.3 ? "Positives stand out: " : gap > 0.1 ? "Positives begin to stand out: " : "All pairs look alike: ";
  const pos = document.createElement("span"); pos.className = "pos"; pos.textContent = fmt(m.positive_similarity, 2);
  const neg = document.createElement("span"); neg.className = "neg"; neg.textContent = fmt(m.negative_similarity, 2);
  sims.append(verdict, "mean cos of positive pairs (outlined) ", pos, ", of the other pairs ", neg,
    ` · the positive is the nearest view in ${pct(m.positive_accuracy)} of the rows (batch of step ${b.step}).`);

  // the held-out embedding
  const e = f.embedding;
  state.coords = decode(e.coords);
  state.m = e.coords.range[1];
  drawScatter($("ssl-embedding"), {
    coords: state.coords, labels: state.heldout.labels, m: state.m, classes: state.heldout.classes,
    selected: state.selected, neighbours: state.neighbours,
  });
  $("ssl-embed-note").textContent = `${state.heldout.labels.length} held-out images, coloured by the class ` +
    `the encoder never saw · uniformity ${fmt(e.uniformity, 2)} · alignment ${fmt(e.alignment, 2)} ` +
    `(step ${e.alignment_step}) · the PCA axes hold ${Math.round(100 * (e.explained[0] + e.explained[1]))} % ` +
    "of the variance.";

  drawViews(b, f.row.index);
  drawRowPanel(f.row, m, n);
  drawCurves(f.history);
  if (!state.ready) {
    state.ready = true;
    labReady();
  }
}

function drawViews(b, row) {
  const box = $("ssl-pairs");
  const n = b.n, k = Math.min(n, MAX_PAIRS);
  if (box.children.length !== k) {
    box.dataset.pairs = k <= 4 ? "few" : k <= 8 ? "some" : "many";
    box.replaceChildren(...Array.from({ length: k }, (_, i) => {
      const pair = document.createElement("div");
      pair.className = "pair";
      pair.title = `image ${i + 1} (left, small) and its two views: view 1 (row ${i}) and view 2 ` +
        `(row ${i + n}), a positive pair`;
      const original = document.createElement("canvas");
      original.className = "original";
      pair.append(original, document.createElement("canvas"), document.createElement("i"),
        document.createElement("canvas"));
      pair.addEventListener("click", () => chooseRow(i));
      return pair;
    }));
  }
  [...box.children].forEach((pair, i) => {
    const [c0, c1, , c2] = pair.children;
    drawImage(c0, b.originals, i);
    drawImage(c1, b.views, i);
    drawImage(c2, b.views, i + n);
    pair.classList.toggle("chosen", i === row % n);
  });
  $("ssl-views-note").textContent = `Each image (small, left) and its two random views. N = ${n} images → 2N = ${2 * n} views` +
    (n > k ? ` (the first ${k} pairs shown)` : "") + `. The loss treats the two views of an image as a ` +
    `positive pair, the other ${2 * n - 2} as negatives.`;
}

function drawRowPanel(row, m, n) {
  const probs = f32(row.probs);
  drawRow($("ssl-rowchart"), { probs, index: row.index, positive: row.positive });
  const img = row.index % n + 1, view = row.index < n ? 1 : 2;
  $("ssl-row-note").textContent = `Row ${row.index} (view ${view} of image ${img}): softmax of cos / τ over the ` +
    `${2 * n - 1} other views. p(positive) = ${pct(probs[row.positive])}, its loss term −log p = ${fmt(row.loss)}. ` +
    `The loss pulls the blue bar up and pushes each orange bar down in proportion to its height. Click a row of the matrix.`;
  const tau = row.tau, even = 1 / (2 * n - 2);
  const hard = m.hardest_share ?? 0;
  const tauNote = $("ssl-tau-note");
  tauNote.classList.toggle("muted", tau > 0.07 && tau < 0.7);
  tauNote.textContent = tau <= 0.07
    ? `Sharp softmax (τ = ${tau}): the hardest negative of a row takes ${pct(hard)} of the push on average ` +
      `(an even share is ${pct(even)}); the rest are hardly pushed.`
    : tau >= 0.7
      ? `Flat softmax (τ = ${tau}): every negative is pushed about alike (the hardest takes ${pct(hard)}, an even ` +
        `share ${pct(even)}) and the loss cannot go below ${fmt(m.loss_floor, 2)} (chance ${fmt(m.chance_loss, 2)}).`
      : `τ = ${tau}: the hardest negative takes ${pct(hard)} of a row's push (even share ${pct(even)}); ` +
        `the loss starts near log(2N − 1) = ${fmt(m.chance_loss, 2)}.`;
}

function drawCurves(h) {
  if (!h) return;
  const steps = Array.from(f32(h.steps)), loss = Array.from(f32(h.loss));
  drawChart($("ssl-losschart"), {
    x: steps.length ? steps : [0], xLabel: "step", integerX: true,
    series: [{ values: steps.length ? loss : [state.frame.metrics.loss], color: "#202124", label: "NT-Xent" }],
    yLabel: "loss",
  });
  const es = Array.from(f32(h.eval_steps));
  drawChart($("ssl-auchart"), {
    x: es, xLabel: "step", integerX: true,
    series: [
      { values: Array.from(f32(h.alignment)), color: "#0877bd", label: "alignment" },
      { values: Array.from(f32(h.uniformity)), color: "#f59322", label: "uniformity", dash: [5, 3] },
    ],
  });
}

// ---------------------------------------------------------------- controls
function showControls() {
  const p = state.params;
  const setRange = (input, out, values, v) => {
    let i = values.indexOf(v);
    if (i < 0) i = values.reduce((best, x, j) => (Math.abs(x - v) < Math.abs(values[best] - v) ? j : best), 0);
    input.value = String(i);
    out.textContent = String(v);
  };
  setRange($("ssl-tau"), $("ssl-tau-out"), TAUS, p.tau);
  setRange($("ssl-n"), $("ssl-n-out"), SIZES, p.batch_size);
  $("ssl-speed").value = String(p.speed);
  $("ssl-dataset").value = p.dataset;
  $("ssl-encoder").value = p.encoder;
  $("ssl-lr").value = String(p.lr);
  $("ssl-seed").value = p.seed;
  for (const t of choices.transforms) {
    const row = document.querySelector(`.aug[data-aug="${t.name}"]`);
    const v = p[t.name];
    row.querySelector(".aug-on").checked = v > 0;
    row.classList.toggle("off", !(v > 0));
    const slider = row.querySelector(".aug-strength");
    slider.value = String(v > 0 ? v : slider.dataset.last || t.on);
    row.querySelector(".aug-value").textContent = v > 0 ? `${+Number(v).toFixed(2)}${t.unit}` : "off";
  }
}

function chooseRow(row) {
  const n2 = 2 * (state.frame?.batch.n ?? state.params.batch_size);
  state.params.row = Math.max(0, Math.min(n2 - 1, row));
  setParams({ row: state.params.row });
  syncURL(urlParams(state.params));
}

function wire() {
  $("ssl-play").addEventListener("click", toggle);
  $("ssl-step").addEventListener("click", step);
  $("ssl-reset").addEventListener("click", reset);
  $("ssl-tau").addEventListener("input", (ev) => { $("ssl-tau-out").textContent = TAUS[ev.target.value]; });
  $("ssl-tau").addEventListener("change", (ev) => setParams({ tau: TAUS[ev.target.value] }));
  $("ssl-n").addEventListener("input", (ev) => { $("ssl-n-out").textContent = SIZES[ev.target.value]; });
  $("ssl-n").addEventListener("change", (ev) => {
    const n = SIZES[ev.target.value];
    if (n > choices.limits.max_batch) { showMessage(`N is at most ${choices.limits.max_batch} on this server.`); showControls(); return; }
    setParams({ batch_size: n, row: Math.min(state.params.row, 2 * n - 1) });
  });
  $("ssl-speed").addEventListener("change", (ev) => setSpeed(Number(ev.target.value)));
  $("ssl-dataset").addEventListener("change", (ev) => setParams({ dataset: ev.target.value }));
  $("ssl-encoder").addEventListener("change", (ev) => setParams({ encoder: ev.target.value }));
  $("ssl-lr").addEventListener("change", (ev) => setParams({ lr: Number(ev.target.value) }));
  $("ssl-seed").addEventListener("change", (ev) => setParams({ seed: Math.max(0, Math.floor(Number(ev.target.value) || 0)) }));
  for (const t of choices.transforms) {
    const row = document.querySelector(`.aug[data-aug="${t.name}"]`);
    const on = row.querySelector(".aug-on"), slider = row.querySelector(".aug-strength");
    const value = () => (t.integer ? Math.round(Number(slider.value)) : +Number(slider.value).toFixed(3));
    on.addEventListener("change", () => setParams({ [t.name]: on.checked ? (value() || t.on) : 0 }));
    slider.addEventListener("input", () => { row.querySelector(".aug-value").textContent = `${value()}${t.unit}`; });
    slider.addEventListener("change", () => {
      slider.dataset.last = slider.value;
      setParams({ [t.name]: value() });
    });
  }
  const matrix = $("ssl-matrix");
  matrix.addEventListener("click", (ev) => {
    const b = state.frame?.batch;
    if (!b) return;
    const rect = matrix.getBoundingClientRect();
    const row = matrixRowAt(matrix, 2 * b.n, ev.clientX - rect.left, ev.clientY - rect.top);
    if (row !== null) chooseRow(row);
  });
  matrix.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      chooseRow(state.params.row + (ev.key === "ArrowDown" ? 1 : -1));
    }
  });
  const scatter = $("ssl-embedding"), tip = $("ssl-tip");
  const hit = (ev) => {
    if (!state.coords) return null;
    const rect = scatter.getBoundingClientRect();
    return pointAt(scatter, state.coords, state.m, ev.clientX - rect.left, ev.clientY - rect.top);
  };
  scatter.addEventListener("mousemove", (ev) => {
    const i = hit(ev);
    tip.hidden = i === null;
    if (i === null) return;
    drawImage(tip.querySelector("canvas"), state.heldout.images, i);
    const label = state.heldout.labels[i];
    const span = tip.querySelector("span");
    span.textContent = `${state.heldout.classes[label]} (held-out image ${i})`;
    span.style.color = CLASS_PALETTE[label % CLASS_PALETTE.length];
    tip.style.left = `${Math.min(ev.clientX + 14, innerWidth - 190)}px`;
    tip.style.top = `${Math.min(ev.clientY + 14, innerHeight - 70)}px`;
  });
  scatter.addEventListener("mouseleave", () => { tip.hidden = true; });
  scatter.addEventListener("click", (ev) => {
    const i = hit(ev);
    if (i !== null) neighboursOf(i);
  });
  $("ssl-probe-run").addEventListener("click", runProbe);
  $("ssl-sweep-run").addEventListener("click", runSweep);
  $("ssl-sweep-stop").addEventListener("click", stopSweep);
  window.addEventListener("resize", () => { queueDraw(); if (state.jobs.sweep) showSweep(state.jobs.sweep); });
  window.addEventListener("pagehide", closeSession);
}

// ---------------------------------------------------------------- the controller
function toggle() { send({ type: state.playing ? "pause" : "play" }); }
function step() { send({ type: "step", n: 1 }); }
function reset() {
  state.selected = null; state.neighbours = [];
  send({ type: "reset" });
}
function setSpeed(v) {
  state.params.speed = v;
  send({ type: "speed", steps_per_frame: v });
  $("ssl-speed").value = String(v);
  syncURL(urlParams(state.params));
}
function faster() { setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(state.params.speed) + 1)] ?? 2); }
function slower() { setSpeed(SPEEDS[Math.max(0, SPEEDS.indexOf(state.params.speed) - 1)] ?? 2); }

wire();
showControls();
showSweep(null);
registerLab({
  toggle, step, reset, faster, slower,
  state: () => urlParams(state.params),
  session: () => state.session,
  playing: () => state.playing,
  exportState: () => ({ params: urlParams(state.params), step: state.frame?.step ?? 0 }),
  importState: async (obj) => {
    if (!obj || typeof obj.params !== "object") throw new Error("no lab parameters in this file");
    await start(coerce(obj.params));
  },
  canvases: () => [$("ssl-matrix"), $("ssl-embedding"), $("ssl-rowchart"), $("ssl-losschart"), $("ssl-auchart")],
  picture: () => [document.querySelector(".ssl-stage")], // the PNG: both figures with their captions
  // a test reads what the page shows of the current frame
  snapshot: () => {
    const f = state.frame;
    return f ? { step: f.step, loss: f.metrics.loss, positive: f.metrics.positive_similarity,
      negative: f.metrics.negative_similarity, n: f.batch.n } : null;
  },
});
start(state.params);
