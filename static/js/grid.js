// Decoding the compact grids the server sends: {shape, range: [lo, hi], dtype, data: base64}
// (or `bytes`, a Uint8Array, in a binary frame).

/** Raw quantized values (Uint8Array or Uint16Array) of an encoded grid: from `bytes` (a binary
 * frame, static/js/stream.js) or base64 `data`. */
export function rawValues(grid) {
  if (grid.bytes) return grid.dtype === "uint16" ? new Uint16Array(grid.bytes.slice().buffer) : grid.bytes;
  const bin = atob(grid.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return grid.dtype === "uint16" ? new Uint16Array(bytes.buffer) : bytes;
}

/** Real values: lo + q / (2^bits − 1) · (hi − lo), as a Float32Array. */
export function decode(grid) {
  const q = rawValues(grid);
  const [lo, hi] = grid.range;
  const top = grid.dtype === "uint16" ? 65535 : 255;
  const out = new Float32Array(q.length);
  const scale = (hi - lo) / top;
  for (let i = 0; i < q.length; i++) out[i] = lo + q[i] * scale;
  return out;
}
