// The perceptron lab's page: controls ↔ URL, a live session over the stream, the step's arithmetic.

import { commandQueue, openStream, postSession } from "../stream.js";
import { labReady, plotStyle, registerLab, syncURL } from "../shell.js";
import { drawChart } from "../chart.js";
import { drawPlane, mapping } from "./plane.js";
import { describeError } from "../errors.js";

const $ = (sel) => document.querySelector(sel);
const DEFAULTS = {
  dataset: "gate_and", n_points: 60, noise: 0, seed: 0, features: ["x1", "x2"], rule: "perceptron",
  lr: 1, max_epochs: 100, init: "zeros", shuffle: false, points: [],
};
const NUMBERS = ["n_points", "noise", "seed", "lr", "max_epochs"];
const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500];
const DECISION = {
  too_low: "too low: a positive example must score > 0 → increase the weights",
  too_high: "too high: a negative example must score < 0 → decrease the weights",
  correct: "correct: no change",
};
// The delta rule moves the weights after every example, so its decisions say where s goes.
const DELTA_DECISION = {
  too_low: "mistake: a positive example must score > 0 → the update raises s toward +1",
  too_high: "mistake: a negative example must score < 0 → the update lowers s toward −1",
  correct: "right side of the line, but the delta rule still moves s toward y",
};
const RULE_LR = { perceptron: 1, adaline: 0.1 }; // each rule's default η (engine.perceptron.DEFAULT_LR)
const SUPER = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** A number as printed: up to `digits` decimals, or 3 significant digits times a power of
 * ten beyond 10⁵ and below 10⁻⁴; a real minus sign. */
export function plain(v, digits = 4) {
  if (v === null || v === undefined || !isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-4)) {
    const [m, e] = (+v).toExponential(2).split("e");
    const mant = String(+m).replace("-", "−");
    return `${mant}·10${String(+e).split("").map((c) => SUPER[c]).join("")}`;
  }
  const r = +(+v).toFixed(digits);
  return String(r === 0 ? 0 : r).replace("-", "−");
}

/** A number as shown: plain(v), coloured by sign. */
export function num(v, digits = 4) {
  if (v === null || v === undefined || !isFinite(v)) return '<span class="num">—</span>';
  const cls = v > 0 ? "pos" : v < 0 ? "neg" : "zero";
  return `<span class="num ${cls}">${plain(v, digits)}</span>`;
}
const paren = (v) => (v < 0 ? `(${num(v)})` : num(v));

function coerce(raw) {
  const p = { ...DEFAULTS };
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in DEFAULTS)) continue;
    if (NUMBERS.includes(k)) p[k] = Number(v);
    else if (k === "shuffle") p[k] = v === true || v === "true" || v === "1";
    else if (k === "features") p[k] = Array.isArray(v) ? v : String(v).split(",").filter(Boolean);
    else if (k === "points") {
      const flat = Array.isArray(v) ? v.flat() : String(v).split(",").filter((s) => s !== "").map(Number);
      p.points = [];
      for (let i = 0; i + 2 < flat.length; i += 3) p.points.push([+flat[i], +flat[i + 1], +flat[i + 2]]);
    } else p[k] = v;
  }
  if (p.rule === "delta") p.rule = "adaline"; // the API's other name of the delta rule
  if (!("lr" in raw)) p.lr = RULE_LR[p.rule] ?? 1;
  return p;
}

let params = coerce(JSON.parse($("#lab-params").textContent || "{}"));
let data = null; // {points, features, feature_labels, extent}
let frame = null;
let stream = null;
const commands = commandQueue(); // a key pressed before the session exists waits for it
let sid = null;
let playing = false;
let speed = 1;
let ready = false;
let importing = null; // {resolve, reject} while an imported run is on its way
// A frame's fields that continue a run (the server's `state` for a `set`).
const RUN_STATE = ["w", "b", "epoch", "position", "mistakes_per_epoch", "sq_error_per_epoch", "total_mistakes",
  "epoch_sq_error", "status", "cycle_start"];

function apiConfig() {
  const { points, dataset, ...rest } = params;
  const body = { ...rest, points: dataset === "points" ? points : null };
  if (dataset !== "points") body.dataset = dataset;
  return body;
}

function urlParams() {
  const out = { ...params };
  out.points = params.dataset === "points" ? params.points.flat().map((v) => +v.toFixed(3)) : null;
  return out;
}

function fillControls() {
  for (const el of document.querySelectorAll("#pc-controls [name]")) {
    if (el.name === "features") el.checked = params.features.includes(el.value);
    else if (el.type === "checkbox") el.checked = !!params[el.name];
    else el.value = params[el.name];
  }
  const gate = params.dataset.startsWith("gate_");
  for (const name of ["n_points", "noise"]) $(`#pc-controls [name=${name}]`).disabled = gate || params.dataset === "points";
}

function readControls() {
  const next = { ...params, features: [] };
  for (const el of document.querySelectorAll("#pc-controls [name]")) {
    if (el.name === "features") { if (el.checked) next.features.push(el.value); }
    else if (el.type === "checkbox") next[el.name] = el.checked;
    else next[el.name] = NUMBERS.includes(el.name) ? Number(el.value) : el.value;
  }
  // A new rule brings its own η (the delta rule overshoots at the perceptron's 1), unless η
  // was set apart from the old rule's default.
  if (next.rule !== params.rule && next.lr === RULE_LR[params.rule]) next.lr = RULE_LR[next.rule];
  return next;
}

function showError(msg) {
  const el = $("#pc-error");
  el.hidden = !msg;
  el.textContent = msg || "";
}

function apply(next, state = null) {
  if (next.dataset === "points" && params.dataset !== "points" && !next.points.length && data) {
    next.points = data.points.map((p) => p.slice()); // start from the points on screen
  }
  params = next;
  fillControls();
  syncURL(urlParams());
  if (!params.features.length) { showError("choose at least one feature"); return false; }
  if (params.dataset === "points" && !params.points.length) {
    data = { ...(data || {}), points: [], extent: data?.extent || [-6, 6] };
    frame = null;
    render();
    showError("click the plane to add points (shift-click for −1)");
    return false;
  }
  showError("");
  playing = false;
  const body = state ? { ...apiConfig(), state } : apiConfig();
  if (stream) {
    stream.send({ type: "pause" });
    stream.send({ type: "set", params: body });
  }
  else start(state);
  return true;
}

/** Continue an exported run: its parameters, then its weights, epoch and mistakes. */
function importRun(obj) {
  const next = coerce(obj.params || obj);
  const saved = obj.frame;
  const state = saved && Object.fromEntries(RUN_STATE.filter((k) => k in saved).map((k) => [k, saved[k]]));
  importDone("another import started");
  if (!state || !("w" in state)) { apply(next); return Promise.resolve(); }
  return new Promise((resolve, reject) => {
    importing = { resolve, reject, configured: false };
    if (!apply(next, state)) return importDone($("#pc-error").textContent);
    const mine = importing;
    setTimeout(() => { if (importing === mine) importDone("the server did not answer"); }, 10_000);
  });
}

function importDone(error) {
  if (!importing) return;
  if (error) importing.reject(new Error(error)); else importing.resolve();
  importing = null;
}

async function start(state = null) {
  const res = await postSession("/api/v1/perceptron/sessions", apiConfig());
  const body = await res.json();
  if (!res.ok) {
    const msg = describeError(body.detail);
    showError(msg);
    importDone(msg);
    return;
  }
  sid = body.id;
  data = body.config.data;
  stream = openStream(`/api/v1/perceptron/sessions/${sid}/stream`, {
    session: (id) => { sid = id; }, // the run was rebuilt elsewhere (stream.js)
    config: (m) => { data = m.config.data; if (importing && m.reset) importing.configured = true; },
    frame: (m) => {
      frame = m;
      render();
      if (importing?.configured) importDone();
      if (!ready) { ready = true; labReady(); } // marks the page drawn and starts ?autoplay=1
    },
    status: (m) => { playing = m.playing; speed = m.speed; renderButtons(); },
    error: (m) => { showError(describeError(m.message)); importDone(m.message); },
  }, { recreate: () => start() }); // the session is gone: the same run again, from the URL
  commands.attach(stream);
  if (state) stream.send({ type: "set", params: { ...apiConfig(), state } });
}

function lineOf(w, b) {
  const f = data?.features || [];
  if (f.length !== 2 || !f.includes("x1") || !f.includes("x2")) return null;
  return { w1: w[f.indexOf("x1")], w2: w[f.indexOf("x2")], b };
}

function vec(v) { return `(${v.map((x) => num(x)).join(", ")})`; }

function explain(u) {
  if (!u) {
    return `<span class="line">Press <b>Step</b> to present the ${frame.step ? "next" : "first"} example.</span>` +
      `<span class="line">${frame.step ? "Now" : "Start"}: w = ${vec(frame.w)}, b = ${num(frame.b)}</span>`;
  }
  const labels = data.feature_labels;
  const n = data.points.length;
  const dot = u.phi.map((x, i) => `${paren(u.w_before[i])}·${paren(x)}`).join(" + ");
  const lines = [
    `Epoch ${u.epoch}, example ${((u.step - 1) % n) + 1} of ${n} (#${u.index + 1}): x = ${vec(u.x)}, y = ${u.y > 0 ? "+1" : "−1"}`,
    labels.length !== 2 || labels[0] !== "x₁" || labels[1] !== "x₂"
      ? `features φ(x) = (${labels.join(", ")}) = ${vec(u.phi)}` : null,
    `score s = w·x + b = ${dot} + ${paren(u.b_before)} = <b>${num(u.score)}</b>`,
    `prediction sign(s) = ${u.prediction > 0 ? "+1" : u.prediction < 0 ? "−1" : "0 (on the line)"}`,
    `<span class="decision ${u.decision}" id="pc-decision">${(params.rule === "adaline" ? DELTA_DECISION : DECISION)[u.decision]}</span>`,
  ];
  const rule = params.rule === "adaline";
  if (rule || u.mistake) {
    const factor = rule ? `η·(y − s) = ${num(params.lr)}·(${u.y > 0 ? "1" : "−1"} − ${paren(u.score)})` : `η·y = ${num(params.lr)}·${u.y > 0 ? "(+1)" : "(−1)"}`;
    const scale = u.db;
    lines.push(`update: ${factor} = ${num(scale)}`);
    // "w ← w − 1·x", not "w + −1·x": the sign joins the operator.
    const op = scale < 0 ? "−" : "+";
    lines.push(`w ← w ${op} ${num(Math.abs(scale))}·x = ${vec(u.w_before)} + ${vec(u.dw)} = <b>${vec(u.w_after)}</b>`);
    lines.push(`b ← b ${op} ${num(Math.abs(scale))} = ${num(u.b_before)} + ${paren(u.db)} = <b>${num(u.b_after)}</b>`);
  } else {
    lines.push(`no update: w = ${vec(u.w_after)}, b = ${num(u.b_after)}`);
  }
  return lines.filter(Boolean).map((l) => `<span class="line">${l}</span>`).join("");
}

function render() {
  if (!data) return;
  const u = frame?.update;
  drawPlane($("#pc-canvas"), {
    extent: data.extent, points: data.points, grid: frame?.grid,
    model: frame ? { features: data.features, w: frame.w, b: frame.b } : null,
    line: frame ? lineOf(frame.w, frame.b) : null,
    before: u && (u.mistake || params.rule === "adaline") ? lineOf(u.w_before, u.b_before) : null,
    current: u ? u.index : null,
  });
  if (!frame) { $("#pc-explain").innerHTML = ""; return; }
  $("#pc-explain").innerHTML = explain(u);
  const rows = data.feature_labels.map((l, i) => `<tr><th>w (${l})</th><td id="pc-w${i}">${num(frame.w[i], 6)}</td></tr>`);
  rows.push(`<tr><th>b</th><td id="pc-b">${num(frame.b, 6)}</td></tr>`);
  $("#pc-weights").innerHTML = rows.join("");
  $("#pc-epoch-no").textContent = frame.epoch;
  $("#pc-steps").textContent = frame.step;
  $("#pc-total").textContent = frame.total_mistakes;
  const v = $("#pc-verdict");
  v.hidden = !frame.message;
  v.textContent = frame.message || "";
  v.className = `banner ${frame.status === "converged" ? "ok" : "danger"}`;
  $("#pc-fix").classList.toggle("highlight", frame.verdict === "not_separable");
  const m = frame.mistakes_per_epoch;
  drawChart($("#pc-mistakes"), {
    x: m.map((_, i) => i + 1),
    series: [{ values: m, color: "#b3261e", label: "mistakes" }],
    xLabel: "epoch", yLabel: "mistakes", integerX: true, integerY: true,
  });
  renderButtons();
}

function renderButtons() {
  const done = frame && frame.status !== "running";
  $("#pc-play").textContent = playing && !done ? "❚❚ Pause" : "▶ Play"; // a finished run plays no more
  $("#pc-speed").textContent = speed;
  for (const id of ["#pc-step", "#pc-epoch", "#pc-play"]) $(id).disabled = !!done;
}

const controller = {
  toggle() { commands.send({ type: playing ? "pause" : "play" }); },
  step() { commands.send({ type: "step", n: 1 }); },
  epoch() {
    const n = data.points.length - (frame?.position || 0);
    commands.send({ type: "step", n: Math.max(1, n) });
  },
  reset() { commands.send({ type: "reset" }); },
  faster() { setSpeed(1); },
  slower() { setSpeed(-1); },
  state: () => urlParams(),
  playing: () => playing,
  exportState: () => ({ lab: "perceptron", params: urlParams(), frame }),
  importState: (obj) => importRun(obj),
  canvases: () => [$("#pc-canvas"), $("#pc-mistakes")],
};

function setSpeed(dir) {
  const i = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.indexOf(speed) + dir));
  speed = SPEEDS[i] ?? 1;
  commands.send({ type: "speed", steps_per_frame: speed });
  renderButtons();
}

$("#pc-controls").addEventListener("change", () => apply(readControls()));
$("#pc-step").addEventListener("click", controller.step);
$("#pc-epoch").addEventListener("click", controller.epoch);
$("#pc-play").addEventListener("click", controller.toggle);
$("#pc-reset").addEventListener("click", controller.reset);
$("#pc-add-x1x2").addEventListener("click", () => {
  apply({ ...params, features: [...new Set([...params.features, "x1x2"])] });
  setTimeout(() => commands.send({ type: "play" }), 0);
});
$("#pc-xor").addEventListener("click", () => apply({ ...params, dataset: "gate_xor", features: ["x1", "x2"] }));
$("#pc-clear").addEventListener("click", () => apply({ ...params, dataset: "points", points: [] }));
$("#pc-canvas").addEventListener("click", (ev) => {
  if (!data) return;
  const rect = ev.currentTarget.getBoundingClientRect();
  const [x1, x2] = mapping(ev.currentTarget, data.extent).fromPixel(ev.clientX - rect.left, ev.clientY - rect.top);
  const base = params.dataset === "points" ? params.points : data.points.map((p) => p.slice());
  apply({ ...params, dataset: "points", points: [...base, [+x1.toFixed(3), +x2.toFixed(3), ev.shiftKey ? -1 : 1]] });
});
window.addEventListener("resize", render);

fillControls();
syncURL(urlParams());
registerLab(controller);
if (params.dataset === "points" && !params.points.length) { apply(params); ready = true; labReady(); }
else start();
