// The network diagram: neurons by layer, weights as coloured edges with their names and values.

import { BLUE, ORANGE, css } from "../colors.js";
import { plain } from "./num.js";

function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 400, H = canvas.clientHeight || 260;
  canvas.width = W * dpr; canvas.height = H * dpr;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  return { ctx, W, H };
}

/** drawNetwork(canvas, network, values) — values: {name: activation} to print in neurons. */
export function drawNetwork(canvas, net, values = {}) {
  const { ctx, W, H } = setup(canvas);
  const layers = [net.inputs, ...net.neurons];
  const pos = {};
  const r = 20;
  layers.forEach((names, l) => {
    const x = 30 + (l * (W - 60)) / (layers.length - 1);
    names.forEach((n, j) => { pos[n] = [x, ((j + 1) * H) / (names.length + 1)]; });
  });
  const wmax = Math.max(1e-9, ...net.weights.map((w) => Math.abs(w.value)));
  ctx.font = "14px system-ui, sans-serif";
  const labels = [];
  for (const w of net.weights) {
    const [x0, y0] = pos[w.from], [x1, y1] = pos[w.to];
    ctx.strokeStyle = css(w.value < 0 ? ORANGE : BLUE);
    ctx.lineWidth = 1 + 4 * Math.min(1, Math.abs(w.value) / wmax);
    ctx.beginPath(); ctx.moveTo(x0 + r, y0); ctx.lineTo(x1 - r, y1); ctx.stroke();
    const t = net.weights.length > 12 ? 0.5 : 0.3;
    labels.push([w, x0 + r + (x1 - x0 - 2 * r) * t, y0 + (y1 - y0) * t]);
  }
  if (net.weights.length <= 16) {
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    for (const [w, x, y] of labels) {
      const text = `${w.name} ${plain(w.value, 4)}`;
      const tw = ctx.measureText(text).width;
      ctx.fillStyle = "rgba(255,255,255,.9)"; ctx.fillRect(x - tw / 2 - 2, y - 9, tw + 4, 18);
      ctx.fillStyle = css(w.value < 0 ? [176, 98, 0] : BLUE); ctx.fillText(text, x, y);
    }
  }
  ctx.textAlign = "center"; ctx.textBaseline = "middle";
  for (const [n, [x, y]] of Object.entries(pos)) {
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = "#444"; ctx.lineWidth = 1.5; ctx.stroke();
    ctx.fillStyle = "#222"; ctx.font = "bold 14px system-ui, sans-serif";
    ctx.fillText(n, x, y - (n in values ? 6 : 0));
    if (n in values) { ctx.font = "12px system-ui, sans-serif"; ctx.fillText(plain(values[n], 3), x, y + 8); }
  }
}
