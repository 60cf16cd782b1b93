// The convolution lab's page: its parameters ↔ the URL, the four parts (tabs), the flip that
// every part labels, and the controller the shell drives (keys, autoplay, export / import).

import { labReady, registerLab, syncURL } from "../shell.js";
import { createStepper } from "./stepper.js";
import { createFilters } from "./filters.js";
import { createLayer } from "./layer.js";

const $ = (s) => document.querySelector(s);
const catalog = JSON.parse($("#cv-catalog").textContent);
const SECTIONS = ["step", "images", "layer", "params"];
const DEFAULTS = {
  section: "step", flip: false,
  // 1. step by step
  input: JSON.stringify(catalog.lecture.input), kernel: JSON.stringify(catalog.lecture.kernel),
  padding: "0", mode: "zeros", stride: 1, dilation: 1, rate: 2, seed: 0,
  // 2. kernels on images
  image: "astronaut", kname: "identity", ksize: 3, custom: null, channels: "grey", display: "auto",
  ipad: "same", imode: "replicate", repeat: 1,
  // 3. a conv layer on a volume
  limage: "astronaut", lfilters: 4, lk: 5, lpad: 2, lstride: 1, lkind: "designed",
  // 4. the calculator: the lecture's 224·224·3 → 1024 question
  ch: 224, cw: 224, cc: 3, units: 1024, cfilters: 1024, ck: 3, cpad: "same", cstride: 1,
};
const NUMBERS = new Set(["stride", "dilation", "rate", "seed", "ksize", "repeat", "lfilters", "lk", "lpad", "lstride",
  "ch", "cw", "cc", "units", "cfilters", "ck", "cstride"]);

function normalGrid(text) {
  const v = typeof text === "string" ? JSON.parse(text) : text;
  if (!Array.isArray(v) || !v.length || !v.every((r) => Array.isArray(r) && r.length === v[0].length && r.every(Number.isFinite))) {
    throw new Error("not a grid of numbers");
  }
  return JSON.stringify(v);
}

function coerce(raw) {
  const p = { ...DEFAULTS };
  const problems = [];
  for (const [k, v] of Object.entries(raw || {})) {
    if (!(k in DEFAULTS) || v === null || v === undefined) continue;
    if (k === "flip") p.flip = v === true || ["1", "true", "yes", "on"].includes(String(v).toLowerCase());
    else if (NUMBERS.has(k)) { const n = Number(v); if (Number.isFinite(n)) p[k] = n; else problems.push(k); }
    else if (["input", "kernel", "custom"].includes(k)) {
      try { p[k] = normalGrid(v); } catch { problems.push(k); }
    } else p[k] = String(v);
  }
  if (!SECTIONS.includes(p.section)) p.section = "step";
  if (p.kname === "custom" && !p.custom) p.kname = "identity";
  return { p, problems };
}

const first = coerce(JSON.parse($("#lab-params").textContent || "{}"));
let params = first.p;
let ready = false;

function showError(msg) {
  $("#cv-error").hidden = !msg;
  $("#cv-error").textContent = msg || "";
}

function markReady() {
  if (!ready) { ready = true; labReady(); }
}

const STEP_KEYS = new Set(["input", "kernel", "padding", "mode", "stride", "dilation", "flip"]);
const IMAGE_KEYS = new Set(["image", "kname", "ksize", "custom", "channels", "display", "ipad", "imode", "repeat", "flip"]);
const LAYER_KEYS = new Set(["limage", "lfilters", "lk", "lpad", "lstride", "lkind", "seed", "flip"]);
const CALC_KEYS = new Set(["ch", "cw", "cc", "units", "cfilters", "ck", "cpad", "cstride"]);

/** Change some parameters: the URL follows, and each part that depends on them redraws. */
function update(changes, { quiet = false } = {}) {
  const next = coerce({ ...params, ...changes });
  params = next.p;
  syncURL(params);
  if (quiet) return;
  const keys = Object.keys(changes);
  if ("flip" in changes) renderFlip();
  if ("section" in changes) showSection();
  if (keys.some((k) => STEP_KEYS.has(k))) stepper.configure();
  if (keys.some((k) => IMAGE_KEYS.has(k))) stale.images = true;
  if (keys.some((k) => LAYER_KEYS.has(k))) stale.layer = true;
  if (keys.some((k) => CALC_KEYS.has(k))) stale.params = true;
  refreshVisible();
}

const stale = { images: true, layer: true, params: true };
function refreshVisible() {
  const s = params.section;
  if (s === "images" && stale.images) { stale.images = false; filters.refresh(); }
  if (s === "layer" && stale.layer) { stale.layer = false; layer.refresh(); }
  if (s === "params" && stale.params) { stale.params = false; layer.refreshCalc(); }
}

function showSection() {
  for (const pane of document.querySelectorAll("[data-pane]")) pane.hidden = pane.dataset.pane !== params.section;
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === params.section));
  }
  $("#cv").dataset.section = params.section;
  $(".cv-flip").hidden = params.section === "params" || document.body.dataset.hide?.split(",").includes("flip");
  $("#cv-op").hidden = params.section === "params";
}

function renderFlip() {
  $("#cv-flip").checked = !!params.flip;
  $("#cv-op").textContent = params.flip ? "true convolution (kernel flipped)" : "cross-correlation (what conv2d computes)";
  $("#cv-op").classList.toggle("flipped", !!params.flip);
}

const context = { params: () => params, update, showError, ready: markReady };
const stepper = createStepper(context);
const filters = createFilters({ ...context, catalog });
const layer = createLayer({ ...context, images: catalog.images });

const controller = {
  ...stepper.controller,
  toggle() { if (params.section === "step") stepper.controller.toggle(); },
  step() { if (params.section === "step") stepper.controller.step(); },
  state: () => ({ ...params }),
  exportState: () => ({ lab: "convolution", params: { ...params }, frame: stepper.frame() }),
  importState(obj) {
    const { p, problems } = coerce(obj?.params || obj);
    if (problems.length) throw new Error(`these parameters are not valid: ${problems.join(", ")}`);
    params = p;
    syncURL(params);
    renderAll();
    stepper.configure();
  },
  canvases: () => [...document.querySelectorAll(`[data-pane="${params.section}"] canvas`)],
  svgs: () => (params.section === "step" ? [$("#cv-svg")] : []),
};

function renderAll() {
  renderFlip();
  showSection();
  filters.fillControls();
  layer.fillControls();
  layer.fillCalc();
  stale.images = stale.layer = stale.params = true;
  refreshVisible();
}

document.querySelectorAll("[data-tab]").forEach((tab) => tab.addEventListener("click", () => update({ section: tab.dataset.tab })));
$("#cv-flip").addEventListener("change", () => update({ flip: $("#cv-flip").checked }));

if (first.problems.length) showError(`These link parameters were not valid and were left at their defaults: ${first.problems.join(", ")}`);
syncURL(params);
renderAll();
stepper.fillControls();
registerLab(controller);
stepper.start();
