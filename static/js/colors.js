// Colours that mean something: orange negative, grey zero, blue positive (as students know
// them from the TensorFlow Playground), and a palette for K classes.

export const ORANGE = [245, 147, 34];
export const GREY = [232, 234, 235];
export const BLUE = [8, 119, 189];
export const CLASS_COLORS = [
  [8, 119, 189], [245, 147, 34], [46, 160, 67], [171, 71, 188], [214, 39, 40],
];

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** RGB for v in [−1, 1] (clipped). */
export function diverging(v) {
  const t = Math.max(-1, Math.min(1, v));
  return t < 0 ? mix(GREY, ORANGE, -t) : mix(GREY, BLUE, t);
}

export function css(rgb, alpha = 1) {
  const [r, g, b] = rgb.map(Math.round);
  return alpha === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

/** 256-entry lookup table for a uint8 grid quantized over [lo, hi], coloured by value / scale. */
export function divergingLUT(lo, hi, scale = 1, steps = 0) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let q = 0; q < 256; q++) {
    let v = (lo + (q / 255) * (hi - lo)) / scale;
    if (steps) v = v < 0 ? -1 : v > 0 ? 1 : 0; // discretized output
    const c = diverging(v);
    lut[q * 3] = c[0]; lut[q * 3 + 1] = c[1]; lut[q * 3 + 2] = c[2];
  }
  return lut;
}
