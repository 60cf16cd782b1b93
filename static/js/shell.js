// What every lab page shares: the lab's controller, presenter keyboard shortcuts, autoplay,
// and the plot style variables of presenter mode.
//
// A lab's module calls registerLab({...}) with any of:
//   toggle() play/pause, step(), reset(), faster(), slower(),
//   state() → the lab's full parameters (URL query names; what a link or export reproduces),
//   exportState() → JSON-able object (config + weights/history), importState(obj)
//     (either may return a Promise),
//   canvases() → the canvases a PNG export should include (in drawing order),
//   picture() → optional: what the PNG shows instead, canvases, svgs or elements holding them
//     (the MLP's network of node canvases, edges and labels); exported at ≥ 2× resolution,
//     so the lab's drawing code must read window.devicePixelRatio and redraw on "resize",
//   svgs() → optional: SVG elements an SVG export should include (else main svg[data-export]),
//   playing() → optional: true while the lab plays (autoplay then leaves it alone).
// (which marks <html data-lab-registered="1">) and then calls labReady() once its first frame
// is drawn. labReady():
//   - marks the page: <html data-lab-ready="1"> (browser tests wait for it),
//   - starts autoplay: with ?autoplay=1 (<body data-autoplay="1">) it calls toggle() once,
//     unless the controller's optional playing() says the lab already plays. A lab that
//     never calls labReady() is not autoplayed by the shell (it may read data-autoplay itself).
// Keys (not while typing in a field or a dialog is open): space play/pause, → step, r reset,
// f fullscreen, + / − speed. Space on a focused lab button still means play/pause.
// A page that embeds a lab may drive it with postMessage({np: "toggle"|"step"|"reset"|
// "faster"|"slower"}, "*") on the iframe's window; nothing is ever sent back.
// Plot style: plotStyle() gives line widths, point radius and label font size in CSS pixels,
// read from the CSS variables --plot-line, --plot-grid-line, --plot-point, --plot-font
// (larger in presenter mode, html.present).
// Layout: in an embed and on a phone the page takes the compact layout of layout.js (the
// lab's main picture first); a lab template marks data-main-picture, data-bar, data-dock-first.

import { initLayout } from "./layout.js";

initLayout();

let lab = null;
let autoplayed = false;

export function registerLab(controller) {
  lab = controller;
  document.documentElement.dataset.labRegistered = "1";
  document.dispatchEvent(new CustomEvent("np:lab-ready", { detail: controller }));
}

export function currentLab() {
  return lab;
}

/** The lab drew its first frame: mark the page and start autoplay if asked for. */
export function labReady() {
  document.documentElement.dataset.labReady = "1";
  document.dispatchEvent(new CustomEvent("np:lab-drawn"));
  autoplay();
}

function wantsAutoplay() {
  return document.body?.dataset.autoplay === "1";
}

function autoplay() {
  if (autoplayed || !lab?.toggle || !wantsAutoplay()) return;
  autoplayed = true;
  if (!lab.playing?.()) lab.toggle();
}

/** Replace the page's query with `params` (lists joined by commas), keeping view options. */
export function syncURL(params) {
  const url = new URL(location.href);
  const keep = ["embed", "hide", "present", "autoplay"];
  const next = new URLSearchParams();
  for (const k of keep) if (url.searchParams.has(k)) next.set(k, url.searchParams.get(k));
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined) continue;
    next.set(k, Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  history.replaceState(null, "", `${url.pathname}?${next}`);
  document.dispatchEvent(new CustomEvent("np:url-synced"));
}

/** A numeric CSS custom property of the page (e.g. "--plot-line"), or `fallback`. */
export function styleVar(name, fallback = 0) {
  const value = parseFloat(getComputedStyle(document.documentElement).getPropertyValue(name));
  return Number.isFinite(value) ? value : fallback;
}

/** Line widths, point radius and label font (CSS px) for canvases; larger in presenter mode. */
export function plotStyle() {
  return {
    line: styleVar("--plot-line", 2),
    gridLine: styleVar("--plot-grid-line", 1),
    point: styleVar("--plot-point", 4),
    font: styleVar("--plot-font", 14),
  };
}

function fullscreen() {
  const done = document.fullscreenElement
    ? document.exitFullscreen()
    : document.documentElement.requestFullscreen?.();
  done?.catch?.(() => {}); // refused (e.g. an iframe without allow="fullscreen"): nothing to do
}

const COMMANDS = ["toggle", "step", "reset", "faster", "slower"];

function run(command) {
  if (command === "fullscreen") return fullscreen();
  lab?.[command]?.();
}

const KEYS = {
  " ": "toggle", Spacebar: "toggle", ArrowRight: "step", r: "reset", R: "reset",
  "+": "faster", "=": "faster", "-": "slower", "_": "slower", "−": "slower",
  f: "fullscreen", F: "fullscreen",
};

// A select, checkbox, radio or chip clicked with the mouse keeps the focus, but the student
// only chose a value: space then means play/pause again. Reached with Tab, the control keeps
// its space (open the list, tick the box).
let clicked = null;
document.addEventListener("pointerdown", (ev) => {
  clicked = ev.target instanceof Element ? ev.target.closest("label, select, input") : null;
}, true);
document.addEventListener("keydown", (ev) => { if (ev.key === "Tab") clicked = null; }, true);

function clickedChoice(target) {
  if (!clicked || !(target.tagName === "SELECT" || ["checkbox", "radio"].includes(target.type))) return false;
  return clicked === target || clicked.contains(target) || [...(target.labels || [])].includes(clicked);
}

// Fields that use a key themselves keep it: text fields and selects every key, a slider the
// arrows, a checkbox the space bar. A lab's buttons do not: after clicking "Step" with the
// mouse, space still plays/pauses (Enter activates the focused button). The toolbar's
// buttons and menus keep their keys.
function fieldUses(target, key) {
  if (!target || !(target instanceof Element)) return false;
  if (key === " " && clickedChoice(target)) return false;
  if (target.isContentEditable || ["SELECT", "TEXTAREA"].includes(target.tagName)) return true;
  if (target.closest("dialog[open], .lab-toolbar")) return key === " " || key.startsWith("Arrow");
  if (target.tagName === "INPUT") {
    const type = target.type;
    if (type === "range") return key.startsWith("Arrow");
    if (["checkbox", "radio", "file", "color"].includes(type)) return key === " ";
    return !["button", "submit", "reset"].includes(type);
  }
  if (["SUMMARY", "A"].includes(target.tagName)) return key === " ";
  return false;
}

document.addEventListener("keydown", (ev) => {
  if (!lab || ev.ctrlKey || ev.metaKey || ev.altKey || (ev.repeat && ev.key === " ")) return;
  const command = KEYS[ev.key];
  if (!command || fieldUses(ev.target, ev.key) || document.querySelector("dialog[open]")) return;
  ev.preventDefault();
  run(command);
});

window.addEventListener("message", (ev) => {
  const command = ev.data && typeof ev.data === "object" ? ev.data.np : null;
  if (COMMANDS.includes(command)) run(command);
});
