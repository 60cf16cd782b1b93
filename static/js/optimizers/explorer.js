// The step-size explorer: one optimizer with four learning rates on the ravine, side by side.
// One stateless POST /api/v1/optimizers/paths computes all four paths; each is revealed over
// about a second.

import { COLORS, NAMES } from "./params.js";
import { drawHead, drawPath, frame, renderSurface } from "./contour.js";
import { describeDetail } from "../stream.js";

const START = [-1.8, 1.0];
const REASONS = {
  diverged: "diverged", gradient_norm: "converged (‖∇f‖ small)", loss_change: "stopped (|Δf| small)",
  max_iterations: "ran out of iterations", early_stopping: "early stopping",
};

export function createExplorer({ onChange, onError }) {
  const canvases = [...document.querySelectorAll(".ex-canvas")];
  const caps = [...document.querySelectorAll(".ex-cap")];
  const $ = (id) => document.getElementById(id);
  let params = null, result = null, surface = null, base = null, anim = null, token = 0;

  function read() {
    return {
      ex_optimizer: $("ex-optimizer").value,
      ex_condition: Number($("ex-condition").value),
      ex_lrs: [...document.querySelectorAll(".ex-lr")].map((el) => Number(el.value)),
      ex_iterations: Number($("ex-iters").value),
    };
  }

  function fill(p) {
    $("ex-optimizer").value = p.ex_optimizer;
    $("ex-condition").value = p.ex_condition;
    document.querySelectorAll(".ex-lr").forEach((el, i) => { el.value = p.ex_lrs[i] ?? ""; });
    $("ex-iters").value = p.ex_iterations;
  }

  async function run(p) {
    params = p;
    const mine = ++token;
    const body = {
      surface: "ravine", surface_params: { condition: p.ex_condition }, starts: [START],
      optimizers: p.ex_lrs.map((lr, i) => ({ name: p.ex_optimizer, lr, label: `lr ${i}` })),
      stop: { max_iterations: p.ex_iterations, grad_tol: 1e-6, loss_tol: 0, patience: 0 }, seed: 0,
      max_points: 400,
    };
    try {
      const [r, s] = await Promise.all([
        fetch("/api/v1/optimizers/paths", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }),
        fetch(`/api/v1/optimizers/surfaces/ravine?res=80&condition=${encodeURIComponent(p.ex_condition)}`),
      ]);
      const data = await r.json(), surf = await s.json();
      if (mine !== token) return;
      if (!r.ok) return onError(detail(data));
      if (!s.ok) return onError(detail(surf));
      result = data; surface = surf; base = null;
      animate();
    } catch (err) {
      onError(`step-size explorer: ${err}`);
    }
  }

  function detail(data) {
    return describeDetail(data.detail);
  }

  function animate() {
    cancelAnimationFrame(anim);
    const t0 = performance.now();
    const tick = (now) => {
      const share = Math.min(1, (now - t0) / 1000);
      draw(share);
      if (share < 1) anim = requestAnimationFrame(tick);
    };
    anim = requestAnimationFrame(tick);
  }

  function draw(share = 1) {
    if (!result) return;
    const dpr = window.devicePixelRatio || 1;
    canvases.forEach((cv, i) => {
      const w = cv.clientWidth || 260, h = w;
      cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
      if (!base || base.width !== cv.width) base = renderSurface(surface, w, h, dpr, 12);
      const ctx = cv.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(base, 0, 0);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const run = result.runs[i];
      const f = frame(surface.domain, w, h);
      const last = run.iterations[run.iterations.length - 1] || 0;
      const n = run.iterations.filter((it) => it <= share * Math.max(last, 1)).length;
      const pts = run.path.slice(0, Math.max(1, n));
      const color = COLORS[params.ex_optimizer];
      ctx.save(); ctx.beginPath(); ctx.rect(0, 0, w, h); ctx.clip();
      drawPath(ctx, f, pts, color);
      drawHead(ctx, f, pts[pts.length - 1], color, share >= 1 ? run.stop_reason : null);
      ctx.restore();
      const lossText = run.stop_reason === "diverged" ? "loss → ∞" : `loss ${fmt(run.loss)}`;
      caps[i].innerHTML = "";
      const b = document.createElement("b");
      b.textContent = `η = ${params.ex_lrs[i]}`;
      const reason = document.createElement("span");
      reason.className = `reason ${run.stop_reason}`;
      reason.textContent = share >= 1 ? `${REASONS[run.stop_reason]} after ${run.steps} · ${lossText}` : "…";
      caps[i].append(b, " ", reason);
    });
  }

  function fmt(v) {
    return v === null ? "–" : v === 0 ? "0" : Math.abs(v) < 1e-3 ? v.toExponential(1) : (+v.toPrecision(3)).toString();
  }

  for (const el of document.querySelectorAll("#ex-optimizer, #ex-condition, .ex-lr, #ex-iters")) {
    el.addEventListener("change", () => { const p = read(); onChange(p); run(p); });
  }
  $("ex-run").addEventListener("click", () => run(read()));
  window.addEventListener("resize", () => { base = null; draw(); });

  return {
    start(p) { fill(p); run(p); },
    canvases: () => canvases,
    result: () => result,
    label: (kind) => NAMES[kind],
  };
}
