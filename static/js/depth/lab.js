// The depth lab's page: three views (gradients through depth while training, the signal at
// initialization, the activation functions) behind tabs, one set of parameters in the URL, and
// the controller the shell and toolbar drive (keys, autoplay, share, export / import).

import { labReady, registerLab, relayout, syncURL } from "../shell.js";
import { TRAIN_DEFAULTS, VIEWS, coerce, trainBody, urlState } from "./params.js";
import { TrainView } from "./train.js";
import { PropagationView } from "./propagation.js";
import { ExplorerView } from "./explorer.js";

const $ = (sel) => document.querySelector(sel);

const lab = {
  params: coerce(JSON.parse($("#lab-params").textContent)),
  ready: false,
  views: {},
  onParams(changes) {
    Object.assign(this.params, changes);
    syncURL(urlState(this.params));
  },
  resetTraining() {
    Object.assign(this.params, structuredClone(TRAIN_DEFAULTS));
    syncURL(urlState(this.params));
  },
  onDrawn(view) {
    if (view !== this.params.view || this.ready) return;
    this.ready = true;
    labReady(); // marks the page drawn and starts ?autoplay=1
  },
};

const makers = {
  train: () => new TrainView($("#view-train"), lab),
  propagation: () => new PropagationView($("#view-propagation"), lab),
  activations: () => new ExplorerView($("#view-activations"), lab),
};

/** The view's controller, made (and started) the first time it is shown. */
function view(name) {
  if (!lab.views[name]) {
    const v = makers[name]();
    lab.views[name] = v;
    if (name === "train") { v.showControls(); v.start(); } else v.run();
  }
  return lab.views[name];
}

function show(name) {
  if (!VIEWS.includes(name)) return;
  lab.onParams({ view: name });
  $("#depth").dataset.view = name;
  for (const v of VIEWS) {
    const section = $(`#view-${v}`);
    section.hidden = v !== name;
    $(`#tab-${v}`).setAttribute("aria-selected", String(v === name));
    // Only the shown view's controls are the page's controls (what ?hide= and the Share dialog list).
    const [from, to] = v === name ? ["viewControl", "control"] : ["control", "viewControl"];
    for (const el of section.querySelectorAll(`[data-${from === "control" ? "control" : "view-control"}]`)) {
      el.dataset[to] = el.dataset[from];
      delete el.dataset[from];
    }
  }
  relayout(); // the compact layout (embeds, phones) shows the view's own picture and strip
  const v = view(name);
  if (v.draw) requestAnimationFrame(() => v.draw());
}

document.querySelectorAll(".depth-tabs [role=tab]").forEach((tab) => {
  tab.addEventListener("click", () => show(tab.dataset.view));
  tab.addEventListener("keydown", (ev) => {
    if (!["ArrowLeft", "ArrowRight"].includes(ev.key)) return;
    const i = VIEWS.indexOf(tab.dataset.view) + (ev.key === "ArrowRight" ? 1 : -1);
    const next = VIEWS[(i + VIEWS.length) % VIEWS.length];
    show(next);
    $(`#tab-${next}`).focus();
    ev.preventDefault();
    ev.stopPropagation();
  });
});

const train = () => (lab.params.view === "train" ? view("train") : null);

registerLab({
  toggle: () => train()?.toggle(),
  step: () => train()?.step(),
  reset: () => train()?.reset(),
  faster: () => train()?.changeSpeed(+1),
  slower: () => train()?.changeSpeed(-1),
  playing: () => Boolean(lab.views.train?.playing),
  state: () => urlState(lab.params),
  canvases: () => view(lab.params.view).canvases(),
  exportState: async () => ({
    params: urlState(lab.params),
    ...(lab.views.train ? await lab.views.train.exportState() : { config: trainBody(lab.params) }),
  }),
  importState: async (obj) => {
    const params = coerce({ ...(obj.params || {}), ...(obj.config || {}) });
    Object.assign(lab.params, params);
    syncURL(urlState(lab.params));
    for (const v of Object.values(lab.views)) v.showControls?.();
    if (!lab.views.train && obj.weights) {
      lab.views.train = makers.train();
      lab.views.train.showControls();
    }
    await lab.views.train?.start({ weights: obj.weights || null });
    lab.views.propagation?.run();
    lab.views.activations?.run();
    show(lab.params.view);
  },
});

window.addEventListener("pagehide", () => lab.views.train?.close());
syncURL(urlState(lab.params));
show(lab.params.view);
