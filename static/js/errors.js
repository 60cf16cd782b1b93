// The server's validation messages in people's words, for the labs' error banners:
//   "optimizers.0.lr: Input should be greater than 0" → "Learning rate η of GD: should be greater than 0"
//   "message: Value error, momentum: momentum must be at least 0 …, got -1.0"
//       → "Momentum μ must be at least 0 …, got −1"
// A field's name comes from the lab's own naming (nameOf(path) → label or null), else from the
// page: the label of the control the key names (data-label of [data-control="key"]) or of the
// hyperparameter (app/labels.py, <script id="np-names">), with "2nd value" for a list index.

let names = null;

/** Hyperparameter labels by API name ("momentum" → "Momentum μ"), from base.html. */
export function hyperLabel(key) {
  if (!names) {
    try { names = JSON.parse(document.getElementById("np-names")?.textContent || "{}"); } catch { names = {}; }
  }
  return names[key] ?? null;
}

const ORDINAL = (i) => `${i + 1}${[, "st", "nd", "rd"][(i + 1) % 100 > 10 && (i + 1) % 100 < 14 ? 0 : (i + 1) % 10] || "th"}`;

function controlLabel(key) {
  const el = document.querySelector(`[data-control="${CSS.escape(key)}"]`);
  return el?.dataset.label || null;
}

/** The default name of a field path like ["inputs", 1] or ["stop", "max_iterations"]. */
export function fieldName(path) {
  const keys = path.filter((k) => typeof k === "string" || !Number.isInteger(+k) || k === "");
  const last = keys[keys.length - 1];
  const label = (last && (hyperLabel(last) || controlLabel(last))) || (keys[0] && controlLabel(keys[0])) ||
    (last ? last.replace(/_/g, " ") : "input");
  const index = path.findLast?.((k) => /^\d+$/.test(String(k)));
  const name = label.charAt(0).toUpperCase() + label.slice(1);
  return index !== undefined && index !== null && path[path.length - 1] === index
    ? `${name} (${ORDINAL(+index)} value)` : name;
}

/** Numbers as the page prints them: a real minus sign, no trailing ".0". */
function numbers(text) {
  return text.replace(/(^|[\s(,=])-(\d)/g, "$1−$2").replace(/(\d)\.0\b(?!\d)/g, "$1");
}

function part(text, nameOf) {
  let t = text.trim().replace(/^message:\s*/, "").replace(/^Value error,\s*/, "");
  const m = t.match(/^([A-Za-z_]\w*(?:\.\w+)*):\s+(.*)$/s);
  if (!m) return numbers(t);
  const path = m[1].split(".").map((k) => (/^\d+$/.test(k) ? +k : k));
  let msg = m[2].replace(/^Value error,\s*/, "").replace(/^Input /, "");
  const key = String(path[path.length - 1]);
  // "sgd: weight_decay must be …": the message names the field itself.
  const named = msg.match(/^([a-z][a-z0-9_]*) (.*)$/s);
  if (named && named[1] !== key && hyperLabel(named[1])) return numbers(`${hyperLabel(named[1])} ${named[2]}`);
  const label = nameOf?.(path) || fieldName(path);
  // "momentum: momentum must be …" says the name twice.
  if (msg.toLowerCase().startsWith(`${key.replace(/_/g, " ")} `) || msg.startsWith(`${key} `)) {
    msg = msg.slice(key.length + 1);
    return numbers(`${label} ${msg}`);
  }
  return numbers(`${label}: ${msg}`);
}

/**
 * One readable line from a server error: a message string (the stream's `error`, a 4xx detail
 * string) or FastAPI's 422 list of {loc, msg}. nameOf(path) may name a field (or return null).
 */
export function describeError(error, nameOf = null) {
  if (Array.isArray(error)) {
    return error.map((e) => {
      const loc = (e.loc || []).filter((k) => k !== "body" && k !== "query");
      return part(loc.length ? `${loc.join(".")}: ${e.msg}` : e.msg, nameOf);
    }).join("; ");
  }
  if (error && typeof error === "object" && "detail" in error) return describeError(error.detail, nameOf);
  const text = String(error ?? "");
  return text.split(/;\s+(?=[A-Za-z_][\w.]*:\s)/).map((p) => part(p, nameOf)).join("; ");
}
