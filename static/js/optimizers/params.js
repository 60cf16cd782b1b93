// The optimizer lab's parameters: defaults, coercion of URL strings, and the API body.
//
// URL keys are the API's: surface, surface_params, starts, optimizers, seed, and the stop
// rules flat (max_iterations, grad_tol, loss_tol, patience; the API nests them in `stop`).
// Page-only keys: internals, speed, and the explorer's ex_optimizer, ex_condition, ex_lrs,
// ex_iterations.

export const KINDS = ["gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];
export const NAMES = {
  gd: "GD", sgd: "SGD (noisy)", momentum: "Momentum", nesterov: "Nesterov",
  adagrad: "AdaGrad", rmsprop: "RMSProp", adam: "Adam",
};
// The lecture's colours: GD cyan, momentum magenta, AdaGrad white, RMSProp green, Adam blue.
export const COLORS = {
  gd: "#00e5ff", sgd: "#ffd23f", momentum: "#ff2bd6", nesterov: "#b388ff",
  adagrad: "#ffffff", rmsprop: "#3ddc4a", adam: "#4d8dff",
};

export const LECTURE = ["gd", "momentum", "adagrad", "rmsprop", "adam"];

export const DEFAULTS = {
  surface: "ravine", surface_params: {}, starts: null,
  optimizers: null, // the lecture's five at the surface's suggested learning rates
  seed: 0, max_iterations: 500, grad_tol: 1e-6, loss_tol: 0, patience: 0,
  internals: false, speed: 2,
  ex_optimizer: "gd", ex_condition: 10, ex_lrs: [0.01, 0.1, 0.19, 0.21], ex_iterations: 200,
};

function json(raw) {
  if (typeof raw !== "string") return raw;
  try { return JSON.parse(raw); } catch { return raw; }
}

function number(raw) {
  if (typeof raw === "number") return raw;
  const v = Number(String(raw).trim());
  return Number.isFinite(v) && String(raw).trim() !== "" ? v : raw; // the server's 422 explains
}

function numbers(raw) {
  const v = json(raw);
  if (Array.isArray(v)) return v.map(number);
  return String(raw).split(",").map(number);
}

/** Page parameters from the template's JSON (URL strings or a preset's values). */
export function coerce(raw) {
  const p = { ...DEFAULTS };
  for (const [k, v] of Object.entries(raw || {})) {
    if (!(k in DEFAULTS)) continue;
    if (["surface_params", "starts", "optimizers"].includes(k)) p[k] = json(v);
    else if (k === "ex_lrs") p[k] = numbers(v);
    else if (["surface", "ex_optimizer"].includes(k)) p[k] = String(v);
    else if (k === "internals") p[k] = v === true || ["1", "true", "on", "yes"].includes(String(v).toLowerCase());
    else p[k] = number(v);
  }
  if (!Array.isArray(p.optimizers)) p.optimizers = LECTURE.map((name) => ({ name }));
  p.optimizers = p.optimizers.map((o) => (typeof o === "string" ? { name: o } : o));
  if (!p.surface_params || typeof p.surface_params !== "object") p.surface_params = {};
  return p;
}

/** The API body of a race (POST .../sessions, the stream's "set"). */
export function raceBody(p) {
  return {
    surface: p.surface,
    surface_params: p.surface_params,
    starts: p.starts,
    optimizers: p.optimizers,
    stop: { max_iterations: p.max_iterations, grad_tol: p.grad_tol, loss_tol: p.loss_tol, patience: p.patience },
    seed: p.seed,
  };
}

/** What the URL keeps (empty values left out). */
export function urlState(p) {
  const out = {};
  for (const k of Object.keys(DEFAULTS)) {
    const v = p[k];
    if (v === null || v === undefined) continue;
    if (k === "surface_params" && !Object.keys(v).length) continue;
    // Lists of objects travel as JSON (syncURL would join a list with commas).
    out[k] = k === "ex_lrs" ? v.join(",") : ["starts", "optimizers"].includes(k) ? JSON.stringify(v) : v;
  }
  return out;
}
