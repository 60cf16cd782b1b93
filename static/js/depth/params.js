// The depth lab's parameters: defaults, coercion of URL strings (or a preset's values), the
// API bodies, and what the URL keeps.
//
// Training keys are the API's (POST /api/v1/depth/sessions): dataset, n_points, noise,
// train_percent, seed, depth, width, networks (a list of {activation, init, residual,
// batchnorm}, JSON in the URL), optimizer, lr, optimizer_params, batch_size. The page's own:
// view (train | propagation | activations), speed (steps per frame); prop_* for the
// signal-propagation study (POST /api/v1/depth/propagation without the prefix); fn, fn2,
// zmax and fn_layers for the activation explorer (GET /api/v1/activations).

import { describeError } from "../errors.js";

export const VIEWS = ["train", "propagation", "activations"];
export const SPEEDS = [1, 2, 5, 10, 20, 50];
export const NAMES = ["A", "B", "C"];
// Categorical colours of the networks (orange and blue mean negative and positive elsewhere).
export const NET_COLORS = ["#6a3d9a", "#1b9e77", "#b15928"];

export const TRAIN_DEFAULTS = {
  dataset: "digits", n_points: 500, noise: 0, train_percent: 80, seed: 0, depth: 30, width: 16,
  networks: [
    { activation: "sigmoid", init: "xavier", residual: false, batchnorm: false },
    { activation: "sigmoid", init: "xavier", residual: true, batchnorm: false },
  ],
  optimizer: "sgd", lr: 0.1, optimizer_params: {}, batch_size: 32,
};
export const PAGE_DEFAULTS = {
  view: "train", speed: 2,
  prop_activation: "tanh", prop_depth: 20, prop_width: 64, prop_batchnorm: false,
  prop_inits: ["zeros", "small_uniform", "tf_uniform", "xavier", "he", "orthogonal"], prop_n: 128,
  fn: "sigmoid", fn2: "relu", zmax: 6, fn_layers: 10,
};
export const DEFAULTS = { ...TRAIN_DEFAULTS, ...PAGE_DEFAULTS };

const INTS = ["n_points", "seed", "depth", "width", "batch_size", "speed", "prop_depth", "prop_width", "prop_n",
  "fn_layers"];
const FLOATS = ["noise", "train_percent", "lr", "zmax"];
const BOOLS = ["prop_batchnorm"];
const NET_KEYS = ["activation", "init", "residual", "batchnorm"];

function number(raw, parse) {
  if (typeof raw === "number") return raw;
  const v = parse(String(raw).trim());
  // A value that is no number goes to the server as written, so its 422 can explain.
  return Number.isFinite(v) && String(raw).trim() !== "" ? v : raw;
}

function json(raw) {
  if (typeof raw !== "string") return raw;
  try { return JSON.parse(raw); } catch { return raw; }
}

function bool(raw) {
  return raw === true || ["1", "true", "yes", "on"].includes(String(raw).toLowerCase());
}

function list(raw) {
  if (Array.isArray(raw)) return raw.map(String);
  const v = json(raw);
  if (Array.isArray(v)) return v.map(String);
  return String(raw).split(",").map((s) => s.trim()).filter(Boolean);
}

/** One network's spec, its four keys always present (a preset may give fewer). */
export function network(raw) {
  const base = { activation: "sigmoid", init: "xavier", residual: false, batchnorm: false };
  if (!raw || typeof raw !== "object") return base;
  const out = { ...base };
  for (const k of NET_KEYS) {
    if (!(k in raw)) continue;
    out[k] = k === "residual" || k === "batchnorm" ? bool(raw[k]) : String(raw[k]);
  }
  return out;
}

/** Typed parameters from query strings or a preset's values, over the defaults. */
export function coerce(raw) {
  const p = structuredClone(DEFAULTS);
  for (const [k, v] of Object.entries(raw || {})) {
    if (!(k in DEFAULTS)) continue;
    if (INTS.includes(k)) p[k] = number(v, (s) => (/^-?\d+$/.test(s) ? parseInt(s, 10) : NaN));
    else if (FLOATS.includes(k)) p[k] = number(v, Number);
    else if (BOOLS.includes(k)) p[k] = bool(v);
    else if (k === "networks") {
      const nets = json(v);
      p[k] = Array.isArray(nets) && nets.length ? nets.map(network) : p[k];
    } else if (k === "optimizer_params") p[k] = v === "" ? {} : json(v);
    else if (k === "prop_inits") p[k] = list(v);
    else p[k] = String(v);
  }
  if (!VIEWS.includes(p.view)) p.view = "train";
  if (!SPEEDS.includes(p.speed)) p.speed = PAGE_DEFAULTS.speed;
  return p;
}

/** The body of POST /api/v1/depth/sessions (and of the stream's "set"). */
export function trainBody(p) {
  return Object.fromEntries(Object.keys(TRAIN_DEFAULTS).map((k) => [k, structuredClone(p[k])]));
}

/** The body of POST /api/v1/depth/propagation. */
export function propagationBody(p) {
  return {
    activation: p.prop_activation, depth: p.prop_depth, width: p.prop_width,
    batchnorm: p.prop_batchnorm, inits: p.prop_inits, n: p.prop_n,
  };
}

/** What the URL keeps: every parameter, lists of objects as JSON (syncURL joins lists). */
export function urlState(p) {
  const out = {};
  for (const k of Object.keys(DEFAULTS)) {
    const v = p[k];
    if (v === null || v === undefined) continue;
    if (k === "optimizer_params" && !Object.keys(v).length) continue;
    out[k] = k === "networks" || k === "optimizer_params" ? JSON.stringify(v) : k === "prop_inits" ? v.join(",") : v;
  }
  return out;
}

/** "A", "B", … and the network's label ("residual · sigmoid · xavier"). */
export function netLabel(spec) {
  const parts = [spec.residual ? "residual" : "plain", spec.activation, spec.init];
  if (spec.batchnorm) parts.push("BatchNorm");
  return parts.join(" · ");
}

/** A 422's detail (string or pydantic's list) in one line. */
export function describeDetail(detail) {
  return describeError(detail);
}
