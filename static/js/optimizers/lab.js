// The optimizer lab page: controls ↔ parameters (kept in the URL), a live race over the
// session's WebSocket, the contour plot with paths, heads and internals, the loss chart and
// why each optimizer stopped. The step-size explorer lives in explorer.js.

import { labReady, registerLab, syncURL } from "../shell.js";
import { commandQueue, openStream, postSession } from "../stream.js";
import { COLORS, KINDS, NAMES, coerce, raceBody, urlState } from "./params.js";
import { arrow, arrowLength, drawHead, drawPath, frame, renderSurface } from "./contour.js";
import { drawLossChart } from "./losschart.js";
import { createExplorer } from "./explorer.js";
import { describeError, hyperLabel } from "../errors.js";

const API = "/api/v1/optimizers";
const SPEEDS = [1, 2, 5, 10, 20, 50, 100];
const catalog = JSON.parse(document.getElementById("opt-catalog").textContent);
const SURFACES = Object.fromEntries(catalog.surfaces.map((s) => [s.name, s]));
const $ = (id) => document.getElementById(id);
const canvas = $("opt-canvas");
const chart = $("opt-chart");

let params = coerce(JSON.parse($("lab-params").textContent));
let kinds = {}; // kind → {on, lr, hyperparameters, schedule, schedule_params}
let surface = null; // the grid answer (description + grid)
let base = null; // the rendered surface
let view = null; // canvas mapping
let sid = null, stream = null, playing = false, done = false, ready = false;
let starting = null; // the race being created (one at a time)
const commands = commandQueue(); // what the page sends before its race (or its next one) exists
let runs = []; // per run: {meta (latest frame entry), iters, pts, loss}
let have = -1; // the last iteration we hold

// ---------------------------------------------------------------- parameters ↔ controls
function kindsFrom(p) {
  const sug = SURFACES[p.surface]?.suggested_lr || {};
  const sugH = SURFACES[p.surface]?.suggested_hyperparameters || {};
  const out = {};
  for (const k of KINDS) {
    const given = p.optimizers.find((o) => o.name === k);
    // An optimizer named without lr (the default set) starts at the surface's suggestions.
    const suggest = given?.lr === undefined;
    out[k] = {
      on: Boolean(given), lr: given?.lr ?? sug[k] ?? catalog.optimizers[k].lr,
      hyperparameters: { ...(given?.hyperparameters || (suggest ? sugH[k] : null) || {}) },
      schedule: given?.schedule || "none", schedule_params: { ...(given?.schedule_params || {}) },
    };
  }
  return out;
}

function optimizersFrom(ks) {
  return KINDS.filter((k) => ks[k].on).map((k) => {
    const o = { name: k, lr: ks[k].lr };
    if (Object.keys(ks[k].hyperparameters).length) o.hyperparameters = ks[k].hyperparameters;
    if (ks[k].schedule !== "none") { o.schedule = ks[k].schedule; o.schedule_params = ks[k].schedule_params; }
    return o;
  });
}

function numberInput(value, onChange, attrs = {}) {
  const el = document.createElement("input");
  el.type = "number"; el.step = "any"; el.value = value;
  Object.assign(el, attrs);
  el.addEventListener("change", () => onChange(el.value === "" ? null : Number(el.value)));
  return el;
}

function field(label, input) {
  const l = document.createElement("label");
  l.className = "field";
  const s = document.createElement("span");
  s.textContent = label;
  l.append(s, input);
  return l;
}

function buildHyper(kind) {
  const box = document.querySelector(`#opt-hp-${kind} .hp`);
  box.replaceChildren();
  const k = kinds[kind];
  for (const [name, def] of Object.entries(catalog.optimizers[kind])) {
    if (name === "lr") continue;
    const cur = k.hyperparameters[name] ?? def;
    let input;
    const set = (v) => {
      if (v === null || v === def) delete k.hyperparameters[name]; else k.hyperparameters[name] = v;
      changed();
    };
    if (typeof def === "boolean") {
      input = document.createElement("input");
      input.type = "checkbox"; input.checked = Boolean(cur);
      input.addEventListener("change", () => set(input.checked));
    } else {
      input = numberInput(cur, set, { min: 0 });
    }
    input.setAttribute("aria-label", `${NAMES[kind]} ${name}`);
    box.append(field(hyperLabel(name) || name, input));
  }
  const sel = document.createElement("select");
  sel.setAttribute("aria-label", `${NAMES[kind]} learning-rate schedule`);
  for (const s of Object.keys(catalog.schedules)) sel.append(new Option(s, s, false, s === k.schedule));
  sel.addEventListener("change", () => { k.schedule = sel.value; k.schedule_params = {}; buildHyper(kind); changed(); });
  box.append(field("Learning-rate schedule", sel));
  for (const [name, def] of Object.entries(catalog.schedules[k.schedule] || {})) {
    const input = numberInput(k.schedule_params[name] ?? def, (v) => {
      if (v === null || v === def) delete k.schedule_params[name]; else k.schedule_params[name] = v;
      changed();
    });
    input.setAttribute("aria-label", `${NAMES[kind]} schedule ${name}`);
    box.append(field(hyperLabel(name) || name, input));
  }
}

const PARAM_LABELS = {
  condition: "condition κ", height: "cliff height", steepness: "cliff steepness",
  noise: "data noise %", feature_scale: "x₂ scale", l2: "L2 λ", n_points: "points", seed: "data seed",
};

function buildSurfaceParams() {
  const box = $("opt-surface-params");
  box.replaceChildren();
  const desc = SURFACES[params.surface];
  for (const [name, spec] of Object.entries(desc?.param_specs || {})) {
    const input = numberInput(params.surface_params[name] ?? spec.default, (v) => {
      if (v === null || v === spec.default) delete params.surface_params[name];
      else params.surface_params[name] = v;
      changed({ surface: true });
    }, { min: spec.min, max: spec.max });
    input.id = `opt-sp-${name}`;
    box.append(field(PARAM_LABELS[name] || name.replace("_", " "), input));
  }
}

function fillControls() {
  $("opt-surface").value = params.surface;
  $("opt-seed").value = params.seed;
  $("opt-internals").checked = params.internals;
  $("opt-speed").value = String(params.speed);
  $("opt-max-iter").value = params.max_iterations;
  $("opt-grad-tol").value = params.grad_tol;
  $("opt-loss-tol").value = params.loss_tol;
  $("opt-patience").value = params.patience;
  $("opt-patience-field").classList.toggle("dim", !SURFACES[params.surface]?.has_validation);
  $("opt-internals-key").hidden = !params.internals;
  for (const row of document.querySelectorAll("#opt-table tr[data-kind]:not(.hp-row)")) {
    const k = kinds[row.dataset.kind];
    row.querySelector(".opt-on").checked = k.on;
    row.querySelector(".opt-lr").value = k.lr;
    row.classList.toggle("off", !k.on);
  }
  buildSurfaceParams();
  KINDS.forEach(buildHyper);
}

function changed({ surface: newSurface = false, restart = true } = {}) {
  params.optimizers = optimizersFrom(kinds);
  syncURL(urlState(params));
  if (newSurface) loadSurface();
  if (restart) configure();
}

function wire() {
  $("opt-surface").addEventListener("change", (ev) => {
    params.surface = ev.target.value;
    params.surface_params = {};
    params.starts = null;
    const sug = SURFACES[params.surface].suggested_lr;
    const sugH = SURFACES[params.surface].suggested_hyperparameters || {};
    for (const k of KINDS) { kinds[k].lr = sug[k]; kinds[k].hyperparameters = { ...(sugH[k] || {}) }; }
    fillControls();
    changed({ surface: true });
  });
  $("opt-seed").addEventListener("change", (ev) => { params.seed = Number(ev.target.value); changed(); });
  $("opt-internals").addEventListener("change", (ev) => {
    params.internals = ev.target.checked;
    $("opt-internals-key").hidden = !params.internals;
    changed({ restart: false });
    draw();
  });
  $("opt-speed").addEventListener("change", (ev) => setSpeed(Number(ev.target.value)));
  for (const [id, key] of [["opt-max-iter", "max_iterations"], ["opt-grad-tol", "grad_tol"],
    ["opt-loss-tol", "loss_tol"], ["opt-patience", "patience"]]) {
    $(id).addEventListener("change", (ev) => { params[key] = Number(ev.target.value); changed(); });
  }
  for (const row of document.querySelectorAll("#opt-table tr[data-kind]:not(.hp-row)")) {
    const kind = row.dataset.kind;
    row.querySelector(".opt-on").addEventListener("change", (ev) => {
      kinds[kind].on = ev.target.checked; row.classList.toggle("off", !ev.target.checked); changed();
    });
    row.querySelector(".opt-lr").addEventListener("change", (ev) => { kinds[kind].lr = Number(ev.target.value); changed(); });
    const more = row.querySelector(".more");
    more.addEventListener("click", () => {
      const hp = $(`opt-hp-${kind}`);
      hp.hidden = !hp.hidden;
      more.setAttribute("aria-expanded", String(!hp.hidden));
    });
  }
  $("opt-play").addEventListener("click", toggle);
  $("opt-step").addEventListener("click", step);
  $("opt-reset").addEventListener("click", reset);
  canvas.addEventListener("click", (ev) => {
    if (!view) return;
    const rect = canvas.getBoundingClientRect();
    const x = +view.x(ev.clientX - rect.left).toFixed(3), y = +view.y(ev.clientY - rect.top).toFixed(3);
    const current = params.starts || [SURFACES[params.surface].default_start];
    params.starts = ev.shiftKey ? [...current, [x, y]] : [[x, y]];
    changed();
  });
  window.addEventListener("resize", () => { base = null; draw(); });
}

// ---------------------------------------------------------------- messages
function message(text) {
  const box = $("opt-message");
  box.textContent = text || "";
  box.hidden = !text;
}

const STOP_LABELS = {
  max_iterations: "Max iterations", grad_tol: "Gradient tolerance ‖∇f‖", loss_tol: "Loss-change tolerance |Δf|",
  patience: "Patience",
};

/** A field's name in an error: "Learning rate η of GD", "Condition κ", "Max iterations". */
function fieldName(path) {
  const [head, i, key] = path;
  if (head === "optimizers" && Number.isInteger(i)) {
    const kind = params.optimizers[i]?.name;
    const what = key === "hyperparameters" || key === "schedule_params" ? path[3] : key;
    const label = what ? hyperLabel(what) || what.replace(/_/g, " ") : "settings";
    return `${label} of ${NAMES[kind] || `optimizer ${i + 1}`}`;
  }
  if (head === "stop") return STOP_LABELS[i] || null;
  if (head === "surface_params" && typeof i === "string") return PARAM_LABELS[i] || null;
  return null;
}

function detail(data) {
  return describeError(data?.detail ?? "the server refused the request", fieldName);
}

// ---------------------------------------------------------------- surface
async function loadSurface() {
  const q = new URLSearchParams({ res: "120", ...params.surface_params });
  const r = await fetch(`${API}/surfaces/${encodeURIComponent(params.surface)}?${q}`);
  const data = await r.json();
  if (!r.ok) return message(detail(data));
  surface = data; base = null;
  $("opt-surface-label").textContent = data.label;
  $("opt-scale-note").textContent = data.scale === "log" ? "colours and contours on a log scale of f − f*" : "colours and contours on a linear scale";
  draw();
}

// ---------------------------------------------------------------- session and stream
async function configure() {
  message("");
  if (!sid && !starting) return connect();
  commands.send({ type: "set", params: raceBody(params) }); // waits for a race still being created
}

/** Create the race from the page's parameters; a second call while one is made waits for it. */
function connect() {
  starting ??= createRace().finally(() => { starting = null; });
  return starting;
}

async function createRace() {
  stream?.close();
  stream = null;
  sid = null;
  commands.detach();
  const r = await postSession(`${API}/sessions`, raceBody(params)); // waits while the server is full
  const data = await r.json();
  if (!r.ok) return message(detail(data));
  sid = data.id;
  stream = openStream(`${API}/sessions/${sid}/stream`, {
    session: (id) => { sid = id; }, // the run was rebuilt elsewhere (stream.js)
    frame: onFrame,
    status: (m) => { playing = m.playing; done = m.done; showPlaying(); },
    error: (m) => message(describeError(m.message, fieldName)),
  }, { recreate: () => connect() }); // the session is gone: the same race again, from the URL
  stream.send({ type: "speed", steps_per_frame: params.speed });
  commands.attach(stream);
}

function onFrame(f) {
  if (f.from === -1) {
    runs = f.runs.map((m) => ({ meta: m, iters: [], pts: [], loss: [] }));
    have = -1;
    message("");
  } else if (f.from > have || f.runs.length !== runs.length) {
    resync();
    return;
  }
  f.runs.forEach((m, i) => {
    const run = runs[i];
    run.meta = m;
    const last = run.iters.length ? run.iters[run.iters.length - 1] : -1;
    m.iterations.forEach((it, j) => {
      if (it <= last) return;
      run.iters.push(it); run.pts.push(m.path[j]); run.loss.push(m.losses[j]);
    });
  });
  have = Math.max(have, f.step);
  done = f.done;
  if (done && playing) { playing = false; showPlaying(); } // a finished race plays no more
  $("opt-iter").textContent = String(f.step);
  draw();
  if (!ready) { ready = true; labReady(); }
}

async function resync() {
  const r = await fetch(`${API}/sessions/${sid}?max_points=2000`);
  if (!r.ok) return;
  const data = await r.json();
  runs = data.runs.map((d, i) => ({ meta: { ...(runs[i]?.meta || {}), ...d }, iters: d.iterations, pts: d.path, loss: d.losses }));
  have = data.iterations;
  done = data.done;
  $("opt-iter").textContent = String(have);
  draw();
}

const PLAY_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M7 4l13 8-13 8z"/></svg>';
const PAUSE_ICON = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M6 4h4v16H6zM14 4h4v16h-4z"/></svg>';

function showPlaying() {
  const b = $("opt-play");
  // Drawn, not a font glyph: the pause sign is missing from many Linux fonts.
  b.innerHTML = playing ? PAUSE_ICON : PLAY_ICON;
  b.setAttribute("aria-label", playing ? "Pause" : "Play");
  b.disabled = done && !playing;
  b.title = done ? "Every optimizer has stopped: reset to run again" : "Play / pause (space)";
}

function toggle() { commands.send({ type: playing ? "pause" : "play" }); }
function step() { commands.send({ type: "step", n: 1 }); }
function reset() { commands.send({ type: "reset" }); }
function setSpeed(v) {
  params.speed = v;
  $("opt-speed").value = String(v);
  syncURL(urlState(params));
  commands.send({ type: "speed", steps_per_frame: v });
}

// ---------------------------------------------------------------- drawing
function draw() {
  if (!surface) return;
  const [[x0, x1], [y0, y1]] = surface.domain;
  const aspect = (y1 - y0) / (x1 - x0);
  const wrap = canvas.parentElement;
  const avail = wrap.clientWidth || 520;
  // As the main picture of the compact layout (layout.js) the plot fits its box both ways.
  const w = wrap.closest(".np-stage") ? Math.min(avail, wrap.clientHeight / aspect) : Math.min(avail, 540 / aspect);
  const h = w * aspect;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${w}px`; canvas.style.height = `${h}px`;
  canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  if (!base || base.width !== canvas.width || base.height !== canvas.height) base = renderSurface(surface, w, h, dpr);
  view = frame(surface.domain, w, h);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(base, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.save(); ctx.beginPath(); ctx.rect(0, 0, w, h); ctx.clip();
  const starts = params.starts || [surface.default_start];
  for (const [x, y] of starts) {
    ctx.beginPath(); ctx.arc(view.px(x), view.py(y), 7, 0, 2 * Math.PI);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.setLineDash([3, 3]); ctx.stroke(); ctx.setLineDash([]);
  }
  for (const run of runs) drawPath(ctx, view, run.pts, COLORS[run.meta.optimizer]);
  for (const run of runs) {
    const head = run.pts[run.pts.length - 1] || run.meta.point;
    if (!head) continue;
    if (params.internals && run.meta.stop_reason !== "diverged") internals(ctx, run, head);
    drawHead(ctx, view, head, COLORS[run.meta.optimizer], run.meta.stop_reason);
  }
  ctx.restore();
  drawChart();
  drawStatus();
}

function internals(ctx, run, [x, y]) {
  const m = run.meta, color = COLORS[m.optimizer];
  const X = view.px(x), Y = view.py(y);
  const sc = m.scale;
  if (sc && sc[0] !== null && sc[1] !== null) {
    const top = Math.max(sc[0], sc[1]) || 1;
    const sx = Math.max(4, 34 * sc[0] / top), sy = Math.max(4, 34 * sc[1] / top);
    ctx.fillStyle = "rgba(255,255,255,0.18)"; ctx.strokeStyle = color; ctx.lineWidth = 2;
    ctx.fillRect(X + 10, Y - sx / 2, sx, sx); ctx.strokeRect(X + 10, Y - sx / 2, sx, sx);
    ctx.fillRect(X - sy / 2, Y - 10 - sy, sy, sy); ctx.strokeRect(X - sy / 2, Y - 10 - sy, sy, sy);
  }
  const g = m.grad;
  if (g && g[0] !== null) arrow(ctx, X, Y, -g[0], -g[1], arrowLength(Math.hypot(g[0], g[1])), "#ffffff");
  const v = m.velocity;
  if (v && v[0] !== null) arrow(ctx, X, Y, -v[0], -v[1], arrowLength(Math.hypot(v[0], v[1])), color, [6, 4]);
}

function drawChart() {
  const fstar = surface?.min_value;
  const log = Boolean(surface?.log_scale && fstar !== null && fstar !== undefined);
  const series = runs.map((run) => ({
    xs: run.iters, ys: log ? run.loss.map((v) => (v === null ? null : v - fstar)) : run.loss,
    color: COLORS[run.meta.optimizer], dash: run.meta.start_index ? [6, 4] : [],
  }));
  drawLossChart(chart, { series, log, yLabel: log ? "f − f*" : "f" });
}

const updates = (n) => `${n} update${n === 1 ? "" : "s"}`;

const REASONS = {
  diverged: (m) => `diverged at iteration ${m.steps + 1}: the steps grew without bound`,
  escaped: (m) => `${surface?.saddles?.length ? "escaped the saddle" : "escaped downhill"} after ${updates(m.steps)}: ` +
    "left the plot with f falling",
  gradient_norm: (m) => `converged: ‖∇f‖ < ${params.grad_tol} after ${updates(m.steps)}`,
  loss_change: (m) => `stopped: |Δf| < ${params.loss_tol} after ${updates(m.steps)}`,
  early_stopping: (m) => `early stopping after ${m.steps} (best validation loss at ${m.best_step})`,
  max_iterations: (m) => `hit the iteration limit (${m.steps})`,
};

function fmt(v) {
  if (v === null || v === undefined) return "–";
  const text = Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : (+v.toPrecision(4)).toString();
  return text.replace(/-/g, "−"); // a real minus sign, in the exponent too
}

function drawStatus() {
  const list = $("opt-status");
  const starts = new Set(runs.map((r) => r.meta.start_index)).size;
  list.replaceChildren(...runs.map((run) => {
    const m = run.meta;
    const li = document.createElement("li");
    li.dataset.optimizer = m.optimizer;
    li.dataset.reason = m.stop_reason || "running";
    // What the lecture compares: updates, how far each walked, how often it turned back.
    li.dataset.updates = m.steps;
    li.dataset.path = m.path_length;
    li.dataset.reversals = m.reversals;
    const sw = document.createElement("i");
    sw.className = `swatch ${m.optimizer}`;
    const name = document.createElement("b");
    name.textContent = NAMES[m.optimizer] + (starts > 1 ? ` #${m.start_index + 1}` : "");
    const what = document.createElement("span");
    what.className = "reason";
    what.textContent = m.stop_reason ? REASONS[m.stop_reason](m) : `running (${m.steps})`;
    const nums = document.createElement("span");
    nums.className = "muted stat";
    nums.textContent = `f ${fmt(m.loss)} · ‖∇f‖ ${fmt(m.grad_norm)}` + (m.val_loss !== null && m.val_loss !== undefined ? ` · val ${fmt(m.val_loss)}` : "") +
      ` · path ${fmt(m.path_length)} · ${m.reversals} reversal${m.reversals === 1 ? "" : "s"}`;
    li.append(sw, name, what, nums);
    return li;
  }));
}

// ---------------------------------------------------------------- the controller
const explorer = createExplorer({
  onChange: (p) => { Object.assign(params, p); syncURL(urlState(params)); },
  onError: message,
});

function speedIndex() { return Math.max(0, SPEEDS.indexOf(params.speed)); }

registerLab({
  toggle, step, reset,
  faster: () => setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, speedIndex() + 1)]),
  slower: () => setSpeed(SPEEDS[Math.max(0, speedIndex() - 1)]),
  state: () => urlState(params),
  exportState: () => ({
    params: urlState(params),
    runs: runs.map((r) => ({ ...r.meta, iterations: r.iters, path: r.pts, losses: r.loss })),
    explorer: explorer.result(),
  }),
  importState: (obj) => {
    params = coerce(obj.params || obj);
    kinds = kindsFrom(params);
    params.optimizers = optimizersFrom(kinds);
    fillControls();
    changed({ surface: true });
    explorer.start(params);
  },
  canvases: () => [canvas, chart, ...explorer.canvases()],
});

kinds = kindsFrom(params);
params.optimizers = optimizersFrom(kinds);
fillControls();
wire();
syncURL(urlState(params));
loadSurface();
connect();
explorer.start(params);
