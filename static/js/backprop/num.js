// Numbers as the backprop lab shows them: up to 6 decimals, a real minus sign, coloured by sign.

export function plain(v, digits = 6) {
  if (v === null || v === undefined || !isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e7 || a < 1e-6)) return v.toExponential(4).replace("-", "−");
  const r = +(+v).toFixed(digits);
  return String(r === 0 ? 0 : r).replace("-", "−");
}

export function num(v, digits = 6) {
  const cls = !isFinite(v) || v === null ? "" : v > 0 ? "pos" : v < 0 ? "neg" : "zero";
  return `<span class="num ${cls}">${plain(v, digits)}</span>`;
}

/** A number inside a product: negative values in parentheses. */
export function factor(v, digits = 6) {
  return v < 0 ? `(${num(v, digits)})` : num(v, digits);
}
