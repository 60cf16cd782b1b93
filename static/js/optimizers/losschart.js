// Loss against iteration for several runs, each with its own iterations (thinned differently).
// series: [{xs, ys, color, dash}]; log: a log10 y axis (values ≤ 0 are clipped to `floor`).

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-2 || a >= 1e4)) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

export function drawLossChart(canvas, { series, log = false, xLabel = "iteration", yLabel = "loss", floor = 1e-12 }) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 400, H = canvas.clientHeight || 200;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  const font = 14;
  ctx.font = `${font}px system-ui, sans-serif`;
  const pad = { l: 58, r: 26, t: 8, b: 38 };
  const ty = (v) => (log ? Math.log10(Math.max(v, floor)) : v);
  let ylo = Infinity, yhi = -Infinity, xhi = 1;
  for (const s of series) {
    s.ys.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      ylo = Math.min(ylo, ty(v)); yhi = Math.max(yhi, ty(v));
      xhi = Math.max(xhi, s.xs[i]);
    });
  }
  if (!Number.isFinite(ylo)) { ylo = 0; yhi = 1; }
  if (yhi - ylo < 1e-9) { yhi += 0.5; ylo -= 0.5; }
  const X = (x) => pad.l + (x / xhi) * (W - pad.l - pad.r);
  const Y = (v) => H - pad.b - ((ty(v) - ylo) / (yhi - ylo)) * (H - pad.t - pad.b);
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
  ctx.fillStyle = "#333"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
  const yticks = [];
  if (log) {
    const step = Math.max(1, Math.ceil((Math.ceil(yhi) - Math.floor(ylo)) / 4));
    for (let e = Math.floor(ylo); e <= Math.ceil(yhi); e += step) yticks.push(Math.pow(10, e));
  } else {
    for (let k = 0; k <= 3; k++) yticks.push(ylo + ((yhi - ylo) * k) / 3);
  }
  for (const t of yticks) {
    const y = Y(t);
    if (y < pad.t - 1 || y > H - pad.b + 1) continue;
    ctx.fillText(fmt(t), pad.l - 5, y);
    ctx.strokeStyle = "#eee"; ctx.beginPath(); ctx.moveTo(pad.l + 1, y); ctx.lineTo(W - pad.r, y); ctx.stroke();
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (let k = 0; k <= 4; k++) {
    const x = Math.round((xhi * k) / 4);
    ctx.fillText(String(x), X(x), H - pad.b + 3);
  }
  ctx.fillText(xLabel, (pad.l + W) / 2, H - 17);
  ctx.save(); ctx.translate(12, (H - pad.b) / 2); ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle"; ctx.fillText(yLabel, 0, 0); ctx.restore();
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t - 2, W - pad.l - pad.r, H - pad.t - pad.b + 4); ctx.clip();
  for (const s of series) {
    // Light colours (AdaGrad's white) get a dark outline, as on the contour plot.
    for (const [stroke, lw] of [["rgba(0,0,0,0.55)", 4], [s.color, 2]]) {
      ctx.strokeStyle = stroke; ctx.lineWidth = lw; ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let pen = false;
      s.ys.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) { pen = false; return; }
        if (pen) ctx.lineTo(X(s.xs[i]), Y(v)); else ctx.moveTo(X(s.xs[i]), Y(v));
        pen = true;
      });
      ctx.stroke();
    }
  }
  ctx.restore();
  ctx.setLineDash([]);
}
