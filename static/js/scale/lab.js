// The scale lab's page: a sweep definition ↔ URL, the sweep on the server (its live stream),
// the scaling plot, the cell map, and the class experiment (join code, QR, pooled results).

import { openStream } from "../stream.js";
import { labReady, registerLab, syncURL } from "../shell.js";
import { drawPlot, short } from "./plot.js";
import { drawCellMap } from "./cellmap.js";
import { AXES, axisFits, defaultAxis, fitText, plotFor, story } from "./views.js";

const $ = (sel) => document.querySelector(sel);
const API = "/api/v1/scale";
const CLASS_KEY = "np-scale-class";
const DEFAULTS = {
  model: "mlp", dataset: "digits", widths: [4, 8, 16, 32, 64], depths: [1], train_sizes: [100, 400, 1438],
  seeds: [0], label_noise: 0, budget_unit: "steps", budget: 400, batch_size: 32, lr: 0.01, optimizer: "adam",
  ridge: 0, axis: "", metric: "test_error",
};
const LISTS = ["widths", "depths", "train_sizes", "seeds"];
const NUMBERS = ["label_noise", "budget", "batch_size", "lr", "ridge"];
const VIEW = ["axis", "metric"];

function ints(v) {
  const list = Array.isArray(v) ? v : String(v).split(/[,\s]+/);
  return list.filter((x) => String(x).trim() !== "").map((x) => Math.round(Number(x)));
}

function coerce(raw) {
  const p = { ...DEFAULTS, widths: [...DEFAULTS.widths], train_sizes: [...DEFAULTS.train_sizes] };
  for (const [k, v] of Object.entries(raw || {})) {
    if (!(k in DEFAULTS)) continue;
    if (LISTS.includes(k)) p[k] = ints(v);
    else if (NUMBERS.includes(k)) p[k] = Number(v);
    else p[k] = String(v);
  }
  if (!axisFits(p.axis, p.model)) p.axis = defaultAxis(p);
  return p;
}

let params = coerce(JSON.parse($("#lab-params").textContent || "{}"));
let sweep = null; // the server's state: id, code, mode, definition, version, progress, students, points, fits
let cells = new Map(); // k → cell
let stream = null;
let ready = false;
let plotted = 0;
let drawQueued = false;

function definition(mode = "server") {
  const body = { mode };
  for (const k of Object.keys(DEFAULTS)) if (!VIEW.includes(k)) body[k] = params[k];
  return body;
}

function urlParams() {
  const out = {};
  for (const k of Object.keys(DEFAULTS)) out[k] = LISTS.includes(k) ? params[k].join(",") : params[k];
  return out;
}

async function api(path, options = {}) {
  const r = await fetch(API + path, {
    headers: { "content-type": "application/json" }, ...options,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const d = data.detail;
    throw new Error(typeof d === "string" ? d : Array.isArray(d) ? d.map((e) => `${e.loc?.slice(1).join(".")}: ${e.msg}`).join("; ") : `error ${r.status}`);
  }
  return data;
}

function showError(text) {
  const el = $("#sc-error");
  el.textContent = text || "";
  el.hidden = !text;
}

// ---- the form ------------------------------------------------------------------------------

function fillForm() {
  const form = $("#sc-form");
  for (const el of form.querySelectorAll("[name]")) {
    const v = params[el.name];
    el.value = LISTS.includes(el.name) ? v.join(", ") : v;
  }
  $("#sc-axis").value = params.axis;
  $("#sc-metric").value = params.metric;
  showFor(params.model);
}

function showFor(model) {
  for (const el of document.querySelectorAll("#sc-form [data-only]")) {
    el.classList.toggle("off", !el.dataset.only.split(" ").includes(model));
  }
  for (const opt of $("#sc-axis").options) opt.hidden = !axisFits(opt.value, model);
}

function readForm() {
  const form = $("#sc-form");
  const raw = {};
  for (const el of form.querySelectorAll("[name]")) raw[el.name] = el.value;
  return coerce({ ...raw, axis: params.axis, metric: params.metric });
}

// ---- the sweep -----------------------------------------------------------------------------

async function createSweep(mode = "server") {
  const created = await api("/sweeps", { method: "POST", body: definition(mode) });
  adopt(created);
  return created;
}

function adopt(state) {
  const old = sweep;
  sweep = state;
  cells = new Map(state.cells.map((c) => [c.k, c]));
  stream?.close();
  stream = openStream(`${API}/sweeps/${state.id}/stream`, {
    state: (msg) => { if (msg.id === sweep?.id) { sweep = msg; cells = new Map(msg.cells.map((c) => [c.k, c])); schedule(); } },
    cells: (msg) => { for (const c of msg.cells) cells.set(c.k, c); schedule(); },
    summary: (msg) => { if (sweep) Object.assign(sweep, msg); schedule(); },
    error: (msg) => showError(msg.message),
  });
  if (old && old.id !== state.id && old.mode === "server") {
    api(`/sweeps/${old.id}`, { method: "DELETE" }).catch(() => {}); // nobody else watches a page's own sweep
  }
  showClass();
  schedule();
}

function schedule() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

function mineSet() {
  return new Set();
}

function draw() {
  if (!sweep) return;
  const all = [...cells.values()];
  const view = plotFor(params.axis, params.metric, sweep, all, sweep.definition.model, mineSet());
  const contributed = sweep.students?.contributed || 0;
  const note = sweep.mode === "class" ? `pooled from ${contributed} student${contributed === 1 ? "" : "s"}` : "";
  plotted = drawPlot($("#sc-plot"), { ...view, note });
  $("#sc-fit").textContent = fitText(params.axis, params.metric, sweep);
  const sentence = story(params.axis, params.metric, sweep);
  $("#sc-story").textContent = sentence;
  $("#sc-story").hidden = !sentence;
  drawProgress();
  drawCellMap($("#sc-map"), all);
  $("#sc-cells-note").textContent = cellNote(all);
  $("#sc-csv").href = `${API}/sweeps/${sweep.id}/export?format=csv`;
  $("#sc-json").href = `${API}/sweeps/${sweep.id}/export?format=json`;
  if (!ready) {
    ready = true;
    labReady();
  }
}

function cellNote(all) {
  const flops = all.reduce((s, c) => s + c.flops, 0);
  const seeds = new Set(all.map((c) => c.seed)).size;
  return `${all.length} cells${seeds > 1 ? ` (${seeds} seeds each)` : ""} · ${short(flops)} FLOPs in all`;
}

function drawProgress() {
  const p = sweep.progress;
  $("#sc-done").textContent = p.done;
  $("#sc-total").textContent = p.total;
  $("#sc-bar").max = p.total;
  $("#sc-bar").value = p.done;
  const parts = [];
  if (p.eta_seconds !== null && p.eta_seconds !== undefined && p.done < p.total) parts.push(`ETA ${duration(p.eta_seconds)}`);
  if (p.seconds_per_cell) parts.push(`${p.seconds_per_cell.toFixed(2)} s a cell`);
  if (p.cached) parts.push(`${p.cached} from the cache`);
  if (sweep.mode === "class") {
    if (p.leased) parts.push(`${p.leased} with students`);
    if (p.from_students) parts.push(`${p.from_students} from students`);
    if (p.reassigned) parts.push(`${p.reassigned} reassigned`);
  }
  if (p.failed) parts.push(`${p.failed} failed`);
  $("#sc-eta").textContent = parts.join(" · ");
  const play = $("#sc-play");
  play.classList.toggle("playing", p.server_runs);
  play.setAttribute("aria-label", p.server_runs ? "Pause" : "Run");
  play.innerHTML = p.server_runs
    ? '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M6 4h4v16H6zM14 4h4v16h-4z"/></svg>'
    : '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M7 4l13 8-13 8z"/></svg>';
  if (sweep.mode === "class") {
    const s = sweep.students;
    $("#sc-students").textContent = `${s.joined} joined · ${s.training} training now · ${s.contributed} contributed`;
  }
}

function duration(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

// ---- the class experiment --------------------------------------------------------------------

function showClass() {
  const on = sweep?.mode === "class";
  $("#sc").classList.toggle("class-on", on);
  $("#sc-class-on").hidden = !on;
  $("#sc-class-off").hidden = on;
  if (!on) return;
  $("#sc-code").textContent = sweep.code;
  $("#sc-qr").src = sweep.qr;
  const link = $("#sc-join-url");
  link.href = sweep.join_url;
  link.textContent = sweep.join_url;
  $("#sc-join-host").textContent = new URL(sweep.join_url).host + "/join";
}

async function startClass() {
  showError("");
  try {
    const created = await createSweep("class");
    sessionStorage.setItem(CLASS_KEY, JSON.stringify({ id: created.id, url: location.search }));
  } catch (err) {
    showError(err.message);
  }
}

async function endClass() {
  const id = sweep?.mode === "class" ? sweep.id : null;
  sessionStorage.removeItem(CLASS_KEY);
  await createSweep("server").catch((err) => showError(err.message));
  if (id) api(`/sweeps/${id}`, { method: "DELETE" }).catch(() => {});
}

async function resumeClass(search) {
  const saved = JSON.parse(sessionStorage.getItem(CLASS_KEY) || "null");
  if (!saved || saved.url !== search) return false; // another sweep than the one the class joined
  try {
    adopt(await api(`/sweeps/${saved.id}`));
    return true;
  } catch {
    sessionStorage.removeItem(CLASS_KEY); // ended, or dropped after being unused
    return false;
  }
}

// ---- controls --------------------------------------------------------------------------------

async function toggle() {
  if (!sweep) return;
  const runs = sweep.progress.server_runs;
  sweep.progress = await api(`/sweeps/${sweep.id}/${runs ? "pause" : "run"}`, { method: "POST", body: {} })
    .catch((err) => { showError(err.message); return sweep.progress; });
  drawProgress();
}

async function stepCell() {
  if (!sweep) return;
  sweep.progress = await api(`/sweeps/${sweep.id}/run`, { method: "POST", body: { cells: 1 } })
    .catch((err) => { showError(err.message); return sweep.progress; });
  drawProgress();
}

async function reset() {
  showError("");
  await createSweep(sweep?.mode === "class" ? "class" : "server").catch((err) => showError(err.message));
  if (sweep?.mode === "class") sessionStorage.setItem(CLASS_KEY, JSON.stringify({ id: sweep.id, url: location.search }));
}

async function apply(next) {
  const before = params;
  params = next;
  showError("");
  try {
    await createSweep(sweep?.mode === "class" ? "class" : "server");
    if (sweep.mode === "class") sessionStorage.setItem(CLASS_KEY, JSON.stringify({ id: sweep.id, url: location.search }));
    syncURL(urlParams());
  } catch (err) {
    params = before;
    showError(err.message);
  }
}

$("#sc-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const next = readForm();
  if (!axisFits(next.axis, next.model)) next.axis = defaultAxis(next);
  apply(next);
});
$("#sc-form [name=model]").addEventListener("change", (ev) => showFor(ev.target.value));
$("#sc-axis").addEventListener("change", (ev) => { params.axis = ev.target.value; syncURL(urlParams()); draw(); });
$("#sc-metric").addEventListener("change", (ev) => { params.metric = ev.target.value; syncURL(urlParams()); draw(); });
$("#sc-play").addEventListener("click", toggle);
$("#sc-step").addEventListener("click", stepCell);
$("#sc-reset").addEventListener("click", reset);
$("#sc-class-start").addEventListener("click", startClass);
$("#sc-class-end").addEventListener("click", endClass);
$("#sc-class-fill").addEventListener("click", () => api(`/sweeps/${sweep.id}/run`, { method: "POST", body: {} })
  .then((p) => { sweep.progress = p; drawProgress(); }).catch((err) => showError(err.message)));
window.addEventListener("resize", schedule);

registerLab({
  toggle, step: stepCell, reset,
  state: () => urlParams(),
  playing: () => Boolean(sweep?.progress?.server_runs),
  canvases: () => [$("#sc-plot")],
  plotted: () => plotted,
  sweep: () => sweep && { id: sweep.id, code: sweep.code, mode: sweep.mode, progress: sweep.progress, students: sweep.students },
  exportState: async () => ({ params: urlParams(), sweep: await api(`/sweeps/${sweep.id}/export?format=json`) }),
  importState: async (obj) => {
    const given = obj?.params || obj?.sweep?.definition || obj?.definition;
    if (!given) throw new Error("the file holds no sweep definition");
    const next = coerce(given);
    await apply(next);
    fillForm();
    if (params !== next) throw new Error($("#sc-error").textContent || "the sweep could not be created");
  },
});

const opened = location.search;
fillForm();
syncURL(urlParams());
const synced = location.search;
(async () => {
  if (!(await resumeClass(opened === synced ? synced : null))) {
    try {
      await createSweep("server");
    } catch (err) {
      showError(err.message);
      ready = true;
      labReady();
    }
  }
})();
