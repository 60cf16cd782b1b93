// The gradient view under the network: one bar per layer of weights, ‖∂L/∂W‖ over the training
// set on a log scale (as the engine's diagnosis computes it), first hidden layer to output.
// Bars that shrink toward the input are a vanishing gradient.

import { plotStyle } from "../shell.js";

const DECADES = 5; // the log scale spans 10⁵ below the largest bar

function sci(v) {
  if (!(v > 0)) return "0";
  if (v >= 0.01 && v < 1000) return String(+v.toPrecision(2));
  const [m, e] = v.toExponential(1).split("e");
  return `${m}e${e.replace("+", "").replace("-", "−")}`;
}

/** drawGradients(canvas, caption, norms): norms[l] = ‖∂L/∂W_l‖, l = 0 the first layer. */
export function drawGradients(canvas, caption, norms) {
  if (!canvas) return;
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth, H = canvas.clientHeight;
  if (!W || !H) return;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  canvas.dataset.norms = JSON.stringify(norms || []);
  if (!norms || !norms.length) { if (caption) caption.textContent = ""; return; }
  const font = Math.min(plotStyle().font, 13);
  const top = Math.max(...norms, 1e-300);
  const lo = Math.log10(top) - DECADES;
  const n = norms.length, gap = W / n, bw = Math.min(38, gap * 0.5);
  const base = H - font * 1.4, room = base - font * 1.3;
  ctx.font = `${font}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  norms.forEach((v, l) => {
    const x = gap * (l + 0.5);
    const t = v > 0 ? Math.max(0, (Math.log10(v) - lo) / DECADES) : 0;
    const h = Math.max(1, t * room);
    ctx.fillStyle = l === n - 1 ? "#5f6368" : "#183153";
    ctx.fillRect(x - bw / 2, base - h, bw, h);
    ctx.fillStyle = "#202124";
    ctx.textBaseline = "bottom";
    ctx.fillText(sci(v), x, base - h - 2);
    ctx.textBaseline = "top";
    ctx.fillText(l === n - 1 ? "output" : `layer ${l + 1}`, x, base + 3);
  });
  ctx.strokeStyle = "#9aa0a6"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(0, base + 0.5); ctx.lineTo(W, base + 0.5); ctx.stroke();
  if (caption) {
    const ratio = norms[n - 1] > 0 ? norms[0] / norms[n - 1] : null;
    caption.textContent = n < 2 || ratio === null
      ? "‖∂L/∂W‖ of the output layer over the training set"
      : `‖∂L/∂W‖ per layer over the training set (log scale): layer 1 gets ${ratio >= 0.1 ? ratio.toFixed(2) : sci(ratio)}× the output layer's`;
  }
}
