// Numbers as the backprop lab shows them: six significant digits, so every printed product
// and sum checks out to the digits printed; a power of ten below 10⁻⁴ and from 10⁷ on; a real
// minus sign; coloured by sign. parseNumber reads back whatever plain() prints.

const SUPER = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
const PLAIN = Object.fromEntries(Object.entries(SUPER).map(([k, v]) => [v, k]));

export function plain(v, digits = 6) {
  if (v === null || v === undefined || !isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e7 || a < 1e-4) {
    const [m, e] = (+v).toExponential(digits - 1).split("e");
    return `${String(+m).replace("-", "−")}·10${String(+e).split("").map((c) => SUPER[c]).join("")}`;
  }
  return String(+(+v).toPrecision(digits)).replace("-", "−");
}

/** A number typed or printed: "−0.5", "-0.5", "1.5·10⁻⁶", "1.5e-6"; NaN when it is none. */
export function parseNumber(text) {
  let s = String(text).trim().replace(/[−–]/g, "-");
  const m = s.match(/^(.*)[·×*]\s*10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)$/);
  if (m) s = `${m[1]}e${m[2].split("").map((c) => PLAIN[c]).join("")}`;
  return s === "" || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) ? NaN : Number(s);
}

export function num(v, digits = 6) {
  const cls = !isFinite(v) || v === null ? "" : v > 0 ? "pos" : v < 0 ? "neg" : "zero";
  return `<span class="num ${cls}">${plain(v, digits)}</span>`;
}

/** A number inside a product: negative values in parentheses. */
export function factor(v, digits = 6) {
  return v < 0 ? `(${num(v, digits)})` : num(v, digits);
}
