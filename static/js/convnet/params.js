// The ConvNet lab's parameters: defaults, coercion from URL strings, the API body, the URL.
//
// Names are the API's (and the URL's); `layers` is the architecture as text
// ("conv8k3p1,relu,maxpool2,..."). Page-only keys: speed (steps per frame, or "epoch") and
// example (the test image traced through the network).

export const DEFAULTS = {
  dataset: "digits", n_images: 1000, image_size: 12, noise: 10, train_percent: 80, seed: 0,
  layers: "conv8k3p1,relu,maxpool2,conv16k3p1,relu,maxpool2", init: "he", optimizer: "adam",
  lr: 0.01, optimizer_params: {}, batch_size: 32, augment_shift: 0, augment_noise: 0,
};
export const PAGE_DEFAULTS = { speed: "1", example: 0 };
export const SPEEDS = ["1", "3", "10", "epoch"];
// Keys that change the images (so the page fetches the test set again).
export const DATA_KEYS = ["dataset", "n_images", "image_size", "noise", "train_percent", "seed"];
const SHAPES_ONLY = ["n_images", "image_size", "noise"];

const INTS = ["n_images", "image_size", "seed", "batch_size", "augment_shift", "example"];
const FLOATS = ["noise", "train_percent", "lr", "augment_noise"];

function number(raw, parse) {
  if (typeof raw === "number") return raw;
  const v = parse(String(raw).trim());
  // A value that is no number goes to the server as written, so its 422 can explain.
  return Number.isFinite(v) && String(raw).trim() !== "" ? v : raw;
}

const int = (s) => (/^-?\d+$/.test(s) ? parseInt(s, 10) : NaN);

/** Typed parameters from query strings (or a preset's JSON), over the defaults. */
export function coerce(raw) {
  const p = { ...structuredClone(DEFAULTS), ...PAGE_DEFAULTS };
  for (const [k, v] of Object.entries(raw || {})) {
    if (INTS.includes(k)) p[k] = number(v, int);
    else if (FLOATS.includes(k)) p[k] = number(v, Number);
    else if (k === "optimizer_params") {
      if (typeof v !== "string") p[k] = v;
      else { try { p[k] = v ? JSON.parse(v) : {}; } catch { p[k] = v; } }
    } else if (k === "layers" && Array.isArray(v)) p[k] = v.join(",");
    else p[k] = v;
  }
  if (!SPEEDS.includes(String(p.speed))) p.speed = PAGE_DEFAULTS.speed;
  p.speed = String(p.speed);
  return p;
}

/** The POST body: the API's fields only. */
export function apiBody(p) {
  return Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, p[k]]));
}

/** The page's own keys. */
export function pageKeys(p) {
  return Object.fromEntries(Object.keys(PAGE_DEFAULTS).map((k) => [k, p[k]]));
}

/** What the URL holds: every API field that matters (the shapes' only with shapes), the page's keys. */
export function urlParams(p) {
  const out = {};
  for (const k of [...Object.keys(DEFAULTS), ...Object.keys(PAGE_DEFAULTS)]) {
    const v = p[k];
    if (v === null || v === undefined) continue;
    if (SHAPES_ONLY.includes(k) && p.dataset !== "shapes") continue;
    if (k === "optimizer_params") { if (Object.keys(v).length) out[k] = JSON.stringify(v); }
    else out[k] = v;
  }
  return out;
}

/** The parameters a config message confirms (the server's canonical values). */
export function fromConfig(config, page) {
  const p = { ...page };
  for (const k of Object.keys(DEFAULTS)) p[k] = config[k];
  return p;
}

/** Steps per frame for a speed choice. */
export function stepsPerFrame(speed, batchesPerEpoch) {
  return speed === "epoch" ? batchesPerEpoch : Number(speed) || 1;
}

/** A 422's detail (text or pydantic's list) as one line. */
export function describeDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((x) => x !== "body").join(".")}: ${d.msg}`).join("; ")
      .replace(/Value error, /g, "");
  }
  return JSON.stringify(detail);
}
