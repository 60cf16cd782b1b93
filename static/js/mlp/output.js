// The large output plot: the network's output over the input plane [−6, 6]² as a heatmap
// (or class colours), the train/test points on top, axes, and clicks turned into points.

import { drawClasses, drawHeatmap } from "../heatmap.js";
import { BLUE, CLASS_COLORS, ORANGE, css, diverging } from "../colors.js";
import { plotStyle } from "../shell.js";

export const DOMAIN = 6;

/** Colour of a point's label: ±1 classes, a regression value, or class k of K. */
export function labelColor(label, problem) {
  if (problem === "multiclass") return CLASS_COLORS[label % CLASS_COLORS.length];
  if (problem === "regression") return diverging(label);
  return label > 0 ? BLUE : ORANGE;
}

export class OutputPlot {
  constructor(canvas, { onClick } = {}) {
    this.canvas = canvas;
    this.heat = document.createElement("canvas");
    this.geom = null;
    canvas.addEventListener("click", (ev) => {
      const p = this.toData(ev.offsetX, ev.offsetY);
      if (p && onClick) onClick(p[0], p[1]);
    });
  }

  /** Input-plane coordinates of a point on the canvas (CSS px), or null outside the plot. */
  toData(x, y) {
    const g = this.geom;
    if (!g || x < g.x0 || y < g.y0 || x > g.x0 + g.side || y > g.y0 + g.side) return null;
    return [((x - g.x0) / g.side) * 2 * DOMAIN - DOMAIN, DOMAIN - ((y - g.y0) / g.side) * 2 * DOMAIN];
  }

  /**
   * draw({output, confidence, problem, k, train, test, showTest, discretize, diverged})
   * output/confidence are encoded grids (or null for an empty plot); train/test are
   * [[x1, x2, label], ...].
   */
  draw(v) {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const W = c.clientWidth, H = c.clientHeight;
    if (!W || !H) return;
    if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) {
      c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const style = plotStyle(); // larger type, lines and points in presenter mode
    const font = style.font;
    const padL = font * 2.2, padB = font * 1.5, padT = Math.max(6, font * 0.5), padR = font * 0.7;
    const side = Math.max(10, Math.min(W - padL - padR, H - padT - padB));
    const x0 = padL + (W - padL - padR - side) / 2, y0 = padT;
    this.geom = { x0, y0, side };
    const sx = (x) => x0 + ((x + DOMAIN) / (2 * DOMAIN)) * side;
    const sy = (y) => y0 + ((DOMAIN - y) / (2 * DOMAIN)) * side;

    if (v.output) {
      const [h, w] = v.output.shape;
      this.heat.width = w; this.heat.height = h;
      if (v.problem === "multiclass") {
        drawClasses(this.heat, v.output, v.confidence, { discretize: v.discretize, k: v.k });
      } else {
        drawHeatmap(this.heat, v.output, { discretize: v.discretize });
      }
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.heat, x0, y0, side, side);
    } else {
      ctx.fillStyle = "#f1f3f4";
      ctx.fillRect(x0, y0, side, side);
    }
    if (v.diverged) {
      ctx.fillStyle = "rgba(255,255,255,0.75)";
      ctx.fillRect(x0, y0, side, side);
    }
    const r = Math.max(3, side / 75) * (style.point / 4);
    // A point on ground of its own colour (correctly classified, saturated output) would show
    // only its ring: a white ring with a dark outline keeps every point readable from afar.
    const ring = Math.max(2, r * 0.4);
    const dots = (points, stroke) => {
      for (const [a, b, label] of points) {
        const x = sx(a), y = sy(b);
        ctx.beginPath();
        ctx.arc(x, y, r + ring / 2 + 0.75, 0, 2 * Math.PI);
        ctx.strokeStyle = "#202124"; ctx.lineWidth = 1.5; ctx.stroke();
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fillStyle = css(labelColor(label, v.problem));
        ctx.fill();
        ctx.strokeStyle = stroke; ctx.lineWidth = ring; ctx.stroke();
      }
    };
    dots(v.train || [], "#fff");
    if (v.showTest) dots(v.test || [], "#000");
    c.dataset.geom = JSON.stringify({ x0, y0, side, r: r + ring / 2 + 1.5 });

    // Axes: a frame and ticks every 2 units.
    ctx.strokeStyle = "#9aa0a6"; ctx.lineWidth = style.gridLine;
    ctx.strokeRect(x0 + 0.5, y0 + 0.5, side - 1, side - 1);
    ctx.fillStyle = "#444";
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    // As many ticks as fit with a label's width between them.
    const ticks = side > 16 * font ? [-6, -4, -2, 0, 2, 4, 6] : side > 10 * font ? [-6, -3, 0, 3, 6] : [-6, 0, 6];
    for (const t of ticks) {
      ctx.fillText(String(t).replace("-", "−"), sx(t), y0 + side + 3);
      ctx.beginPath(); ctx.moveTo(sx(t), y0 + side); ctx.lineTo(sx(t), y0 + side + 3); ctx.stroke();
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of ticks) {
      ctx.fillText(String(t).replace("-", "−"), x0 - 4, sy(t));
    }
  }
}
