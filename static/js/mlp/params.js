// The MLP lab's parameters: defaults, coercion from URL strings, and what the API is sent.
//
// Parameter names are the API's (and the URL's). A few keys only concern the page: speed
// (epochs per frame, or "step"), show_test and discretize; they stay out of the API body.

export const DEFAULTS = {
  dataset: "circle", n_points: 500, noise: 0, train_percent: 50, seed: 0, num_classes: 3,
  points: null, added: null, problem: null, features: ["x1", "x2"], hidden: [4, 2], activation: "tanh",
  loss: null, init: "tf_uniform", optimizer: "sgd", lr: 0.03, optimizer_params: {},
  batch_size: 10, regularization: "none", reg_rate: 0,
};

export const PAGE_DEFAULTS = { speed: "1", show_test: false, discretize: false };

const INTS = ["n_points", "seed", "num_classes", "batch_size"];
const FLOATS = ["noise", "train_percent", "lr", "reg_rate"];
const NULLABLE = ["problem", "loss", "points", "added"];

function number(raw, parse) {
  if (typeof raw === "number") return raw;
  const v = parse(String(raw).trim());
  // A value that is no number goes to the server as written, so its 422 can explain.
  return Number.isFinite(v) && String(raw).trim() !== "" ? v : raw;
}

function list(raw) {
  if (Array.isArray(raw)) return raw;
  const text = String(raw).trim();
  if (text.startsWith("[")) {
    try { return JSON.parse(text); } catch { return raw; }
  }
  return text === "" ? [] : text.split(",").map((s) => s.trim());
}

function json(raw) {
  if (typeof raw !== "string") return raw;
  try { return JSON.parse(raw); } catch { return raw; }
}

function bool(raw) {
  return raw === true || ["1", "true", "yes", "on"].includes(String(raw).toLowerCase());
}

/** Typed parameters from query strings (or a preset's typed JSON), over the defaults. */
export function coerce(raw) {
  const p = { ...structuredClone(DEFAULTS), ...PAGE_DEFAULTS };
  for (const [k, v] of Object.entries(raw || {})) {
    if (INTS.includes(k)) p[k] = number(v, (s) => (/^-?\d+$/.test(s) ? parseInt(s, 10) : NaN));
    else if (FLOATS.includes(k)) p[k] = number(v, Number);
    else if (k === "features") p[k] = list(v);
    else if (k === "hidden") p[k] = list(v).map((h) => number(h, (s) => (/^\d+$/.test(s) ? parseInt(s, 10) : NaN)));
    else if (k === "optimizer_params" || k === "points" || k === "added") {
      p[k] = v === "" ? (k === "optimizer_params" ? {} : null) : json(v);
    }
    else if (NULLABLE.includes(k) && (v === "" || v === null)) p[k] = null;
    else if (k === "show_test" || k === "discretize") p[k] = bool(v);
    else p[k] = v;
  }
  return p;
}

/** The POST/PATCH body: API fields only, without nulls the server resolves itself. */
export function apiBody(p) {
  const body = {};
  for (const k of Object.keys(DEFAULTS)) {
    if (p[k] === null || p[k] === undefined) continue;
    body[k] = p[k];
  }
  return body;
}

/** What goes in the URL: every API field (seed included) plus the page's view keys. */
export function urlParams(p) {
  const out = {};
  for (const k of [...Object.keys(DEFAULTS), ...Object.keys(PAGE_DEFAULTS)]) {
    const v = p[k];
    if (v === null || v === undefined) continue;
    if (k === "points" || k === "added") out[k] = JSON.stringify(v);
    else if (k === "optimizer_params") { if (Object.keys(v).length) out[k] = JSON.stringify(v); }
    else if (typeof v === "boolean") out[k] = v ? "1" : "0";
    else out[k] = v;
  }
  return out;
}

/** Config fields as the server resolved them (its "config" message) back into parameters. */
export function fromConfig(config, page) {
  const p = { ...PAGE_DEFAULTS, ...page };
  for (const k of Object.keys(DEFAULTS)) p[k] = structuredClone(config[k] ?? DEFAULTS[k]);
  return p;
}

/** Mini-batch steps per frame for a speed setting ("step" or epochs per frame). */
export function stepsPerFrame(speed, batchesPerEpoch) {
  if (speed === "step") return 1;
  const k = Number(speed) || 1;
  return Math.max(1, Math.round(k * batchesPerEpoch));
}

export const SPEEDS = ["step", "1", "2", "5", "10"];

/** A 422's detail (a string, or pydantic's list of errors) as one readable line. */
export function describeDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((e) => {
      const where = (e.loc || []).filter((x) => x !== "body").join(".");
      return where ? `${where}: ${e.msg}` : e.msg;
    }).join("; ");
  }
  return JSON.stringify(detail);
}
