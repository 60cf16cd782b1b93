// Numbers as the convolution lab prints them: integers as they are, others to 3 significant
// digits, a true minus sign (U+2212) on screen, and parsing that accepts what we print.

import { postSession } from "../stream.js";

/** A number for the page: "12", "−3", "0.111", "1,024" with `grouped`. */
export function fmt(v, { grouped = false } = {}) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  let text;
  if (Number.isInteger(v)) text = grouped ? Math.abs(v).toLocaleString("en-US") : String(Math.abs(v));
  else {
    const a = Math.abs(v);
    text = a !== 0 && (a < 1e-3 || a >= 1e6) ? a.toExponential(2) : String(+a.toPrecision(3));
  }
  return (v < 0 ? "\u2212" : "") + text;
}

/** A factor inside a product: negative numbers in parentheses, "3·(−1)". */
export function factor(v) {
  return v < 0 ? `(${fmt(v)})` : fmt(v);
}

/** A cell's text back to a number (accepts "−", "," decimal comma, spaces); NaN when not one. */
export function parse(text) {
  const t = String(text).trim().replace(/\u2212/g, "-").replace(/,/g, ".").replace(/\s+/g, "");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return NaN;
  return Number(t);
}

export function signClass(v) {
  return v < 0 ? "neg" : v > 0 ? "pos" : "";
}

/** A deterministic generator (mulberry32) for the page's "random integers" fill. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A padding for the API: whole pixels as a number ("2" from the URL is 2), else "same" / "valid". */
export function padding(value) {
  return /^\d+$/.test(String(value).trim()) ? Number(value) : value;
}

/** Fetch JSON; throws an Error with the server's message (422 detail) when not ok. A new
 * session (a POST to …/sessions) waits and retries while the server is full (stream.js). */
export async function api(path, body) {
  const res = body === undefined ? await fetch(path)
    : path.endsWith("/sessions") ? await postSession(path, body)
      : await fetch(path, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(detail(data) || `${res.status} ${res.statusText}`);
  return data;
}

export function detail(body) {
  if (!body || body.detail === undefined) return "";
  return typeof body.detail === "string" ? body.detail
    : body.detail.map((d) => {
      // "body.kernel.1: …" names a field; a problem of the whole request has no place
      const loc = (d.loc || []).filter((k) => k !== "body" && k !== "query");
      return loc.length ? `${loc.join(".")}: ${d.msg}` : d.msg;
    }).join("; ");
}
