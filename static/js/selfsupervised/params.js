// The self-supervised lab's parameters: defaults, coercion from URL strings, the API body.
// Names are the API's (and the URL's); `row` is the frame's chosen row and `speed` the page's
// steps per frame: both travel in the URL too, the API body leaves speed out.

export const TRANSFORMS = ["crop", "flip", "rotate", "shift", "contrast", "blur", "noise", "cutout"];

export const DEFAULTS = {
  dataset: "digits", seed: 0, encoder: "cnn", embed_dim: 16, tau: 0.2, batch_size: 32,
  optimizer: "adam", lr: 0.01,
  crop: 0.3, flip: 0, rotate: 15, shift: 1, contrast: 0.4, blur: 0.6, noise: 0.1, cutout: 0,
  row: 0, speed: 2,
};
// Only for the generated shapes; sent when the URL gives them.
const SHAPES = { n_images: 1000, image_size: 12, shape_noise: 0.1 };

const INTS = ["seed", "embed_dim", "batch_size", "shift", "cutout", "row", "speed", "n_images", "image_size"];
const FLOATS = ["tau", "lr", "crop", "flip", "rotate", "contrast", "blur", "noise", "shape_noise"];

function number(raw, integer) {
  if (typeof raw === "number") return raw;
  const text = String(raw).trim();
  const v = integer ? (/^-?\d+$/.test(text) ? parseInt(text, 10) : NaN) : Number(text);
  // A value that is no number goes to the server as written, so its 422 can explain.
  return Number.isFinite(v) && text !== "" ? v : raw;
}

/** Typed parameters from query strings (or a preset's JSON), over the defaults. */
export function coerce(raw) {
  const p = { ...DEFAULTS };
  for (const [k, v] of Object.entries(raw || {})) {
    if (INTS.includes(k)) p[k] = number(v, true);
    else if (FLOATS.includes(k)) p[k] = number(v, false);
    else p[k] = v;
  }
  return p;
}

/** The POST body: every API field (speed and row are the page's). */
export function apiBody(p) {
  const body = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === "speed" || k === "row") continue;
    if (k in SHAPES && p.dataset !== "shapes") continue;
    body[k] = v;
  }
  return body;
}

/** What the URL (and state()) keep: everything, the shapes' settings only for shapes. */
export function urlParams(p) {
  const out = {};
  for (const [k, v] of Object.entries(p)) {
    if (k in SHAPES && p.dataset !== "shapes") continue;
    out[k] = v;
  }
  return out;
}

/** The page's parameters from the server's config message. */
export function fromConfig(config, page) {
  const p = { ...page };
  for (const k of Object.keys(DEFAULTS)) if (k in config) p[k] = config[k];
  if (config.dataset === "shapes") for (const k of Object.keys(SHAPES)) p[k] = config[k];
  else for (const k of Object.keys(SHAPES)) delete p[k];
  p.row = config.row ?? p.row;
  return p;
}

/** A 422's detail (a string, or pydantic's list) as one line. */
export function describeDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((x) => x !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return JSON.stringify(detail);
}
