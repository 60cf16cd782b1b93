// What the scale lab's plot shows for each axis, and the sentences that say it: series of
// points (seed-averaged, from the server's summary), the fitted power law, the story line.

import { blues, short } from "./plot.js";

const ORANGE = "rgb(245,147,34)";
const GREY = "#8a8f94";

export const AXES = {
  parameters: { label: ["Parameters (trained weights)", "Parameters"], letter: "N", models: ["mlp", "cnn"] },
  train_size: { label: "Training images", letter: "D", models: ["mlp", "cnn"] },
  flops: { label: ["Training compute (FLOPs)", "Compute (FLOPs)"], letter: "C", models: ["mlp", "cnn"] },
  width: { label: "Random features p", letter: "p", models: ["random_features"] },
  steps: { label: "Gradient-descent steps", letter: "t", models: ["random_features"] },
};

export function defaultAxis(params) {
  if (params.model === "random_features") return "width";
  return params.widths.length > 1 || params.depths.length > 1 ? "parameters" : "train_size";
}

export function axisFits(axis, model) {
  return AXES[axis]?.models.includes(model);
}

const pct = (v) => `${+(v * 100).toPrecision(v < 0.1 ? 2 : 3)} %`;
export const isError = (metric) => metric.endsWith("error");
export const fmtMetric = (metric, v) => (v === null || v === undefined ? "—" : isError(metric) ? pct(v) : short(v));
const grouped = (n) => Number(n).toLocaleString("en-US");

function modelName(p, model) {
  if (model === "cnn") return `${p.width} filters (${grouped(p.parameters)} params)`;
  const layers = p.depth > 1 ? `${p.depth} × ` : "";
  return `${layers}${p.width} units (${grouped(p.parameters)} params)`;
}

/** The plot's series, fit and marks for `axis`, from the summary and the cells. */
export function plotFor(axis, metric, summary, cells, model, mine = new Set()) {
  const points = summary?.points || [];
  const y = (p) => p.mean[metric];
  const point = (p, x) => ({ x, y: y(p), lo: p.low[metric], hi: p.high[metric], ring: false });
  const yLog = !(axis === "width" || axis === "steps") || !isError(metric);
  const base = { xLog: true, yLog, xLabel: AXES[axis].label, yLabel: isError(metric) ? "Test error" : "Test loss",
    yFormat: isError(metric) ? (v) => `${short(v * 100)} %` : short };
  const fits = summary?.fits?.[metric] || {};
  const fitEntry = fits[axis] || null;
  const fit = fitEntry?.fit || null;
  const fitLabel = !fit ? "" : `fit: ${AXES[axis].letter}^−${fit.alpha.toFixed(2)}` +
    (fit.floor > 0 ? `, floor ${fmtMetric(metric, fit.floor)}` : "");

  if (axis === "parameters" || axis === "train_size") {
    const key = axis === "parameters" ? (p) => p.train_size : (p) => `${p.depth}×${p.width}`;
    const groups = new Map();
    for (const p of points) {
      const k = key(p);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(p);
    }
    const order = [...groups.keys()].sort((a, b) => (axis === "parameters" ? a - b
      : groups.get(a)[0].parameters - groups.get(b)[0].parameters));
    const colors = blues(order.length);
    const series = order.map((k, i) => ({
      label: axis === "parameters" ? `${grouped(k)} images` : modelName(groups.get(k)[0], model),
      color: colors[i],
      points: groups.get(k).map((p) => ({ ...point(p, axis === "parameters" ? p.parameters : p.train_size),
        ring: mine.has(`${p.width}/${p.depth}/${p.train_size}`) })),
    }));
    return { ...base, series, fit, fitLabel, fitEntry };
  }
  if (axis === "flops") {
    const nMax = fitEntry?.train_size;
    const done = cells.filter((c) => c.status === "done" && c.result && c.train_size === nMax);
    // one learning curve per model: its seeds' checkpoints averaged (they share steps and compute)
    const models = new Map();
    for (const c of done) {
      const k = `${c.depth}×${c.width}`;
      if (!models.has(k)) models.set(k, []);
      models.get(k).push(c);
    }
    const order = [...models.values()].sort((a, b) => a[0].parameters - b[0].parameters);
    const colors = blues(order.length);
    const series = order.map((group, i) => {
      const curve = group[0].result.curve;
      return {
        label: modelName(group[0], model), color: colors[i], dots: false, width: 1.8,
        points: curve.flops.map((f, j) => ({
          x: f, y: group.reduce((s, c) => s + (c.result.curve[metric][j] ?? NaN), 0) / group.length,
        })),
      };
    });
    if (fitEntry) {
      series.push({ label: "compute frontier", color: "#111", line: false, small: true,
        points: fitEntry.x.map((x, i) => ({ x, y: fitEntry.y[i] })) });
    }
    return { ...base, series, fit, fitLabel, fitEntry };
  }
  // random features
  const dd = summary?.double_descent;
  const n = dd?.threshold ?? Math.min(...points.map((p) => p.train_size));
  if (axis === "width") {
    const row = points.filter((p) => p.train_size === n);
    const series = [{ label: `test ${isError(metric) ? "error" : "loss"}`, color: "rgb(8,48,107)",
      points: row.map((p) => ({ ...point(p, p.width), ring: mine.has(`${p.width}/${p.depth}/${p.train_size}`) })) }];
    const trainKey = isError(metric) ? "train_error" : "train_loss";
    series.push({ label: `training ${isError(metric) ? "error" : "loss"}`, color: GREY, dash: [5, 4], small: true,
      points: row.map((p) => ({ x: p.width, y: p.mean[trainKey] })).filter((q) => !yLog || q.y > 0) });
    return { ...base, xLabel: ["Random features p (trained weights: 10·p)", "Random features p"], series,
      fit: null, fitLabel: "",
      vline: isFinite(n) ? { x: n, label: [`p = n = ${grouped(n)} training images`, `p = n = ${grouped(n)}`] } : null };
  }
  // steps: the gradient-descent path of a few widths, the threshold's in orange
  const done = cells.filter((c) => c.status === "done" && c.result && c.train_size === n);
  const widths = [...new Set(done.map((c) => c.width))].sort((a, b) => a - b);
  const pick = pickWidths(widths, n);
  const colors = blues(pick.length);
  const series = pick.map((w, i) => {
    const mineCells = done.filter((c) => c.width === w);
    const c = mineCells[0];
    return { label: `p = ${grouped(w)}${w === n ? " (= n)" : ""}`, color: w === n ? ORANGE : colors[i], dots: false,
      points: c.result.curve.step.map((t, j) => ({ x: t, y: c.result.curve[metric][j] })) };
  });
  return { ...base, series, fit: null, fitLabel: "" };
}

function pickWidths(widths, n) {
  if (widths.length <= 5) return widths;
  const at = widths.reduce((b, w) => (Math.abs(Math.log(w / n)) < Math.abs(Math.log(b / n)) ? w : b), widths[0]);
  const picks = new Set([widths[0], at, widths[widths.length - 1]]);
  const below = widths.filter((w) => w < at), above = widths.filter((w) => w > at);
  if (below.length) picks.add(below[Math.floor(below.length / 2)]);
  if (above.length) picks.add(above[Math.floor(above.length / 2)]);
  return [...picks].sort((a, b) => a - b);
}

/** "error ≈ 5.8·D^−0.93 + 1.2 %  (α 0.93, R² 0.99, 7 points)" */
export function fitText(axis, metric, summary) {
  const entry = summary?.fits?.[metric]?.[axis];
  if (axis === "width" || axis === "steps") {
    const n = summary?.double_descent?.threshold;
    if (!n) return "";
    return axis === "width"
      ? `Each read-out solves n = ${grouped(n)} equations with p unknowns: p < n cannot fit every label, ` +
        `p = n fits them in exactly one (wild) way, p > n picks the smallest weights that fit.`
      : `Gradient descent from zero, computed exactly: early on every width does well; the p = n model ` +
        `keeps climbing as it fits the noisy labels, towards the peak of the exact fit (its limit).`;
  }
  if (!entry) return "";
  const fit = entry.fit;
  const what = isError(metric) ? "error" : "loss";
  const on = axis === "parameters" ? `on ${grouped(entry.train_size)} images`
    : axis === "train_size" ? `for ${grouped(entry.parameters)} parameters` : `compute frontier, ${grouped(entry.train_size)} images`;
  if (!fit) return `A power law needs three values on this axis (${on}).`;
  const floor = fit.floor > 0 ? ` + ${+fit.floor.toPrecision(2)}` : "";
  const scale = fit.a >= 1e4 ? short(fit.a) : +fit.a.toPrecision(3);
  return `${what} ≈ ${scale} · ${AXES[axis].letter}^−${fit.alpha.toFixed(2)}${floor}: ` +
    `α = ${fit.alpha.toFixed(2)}, floor ${fmtMetric(metric, fit.floor)}, R² ${fit.r2.toFixed(2)} (${on})`;
}

/** The sentence the plot says, or "" while too few cells are done. */
export function story(axis, metric, summary) {
  const what = isError(metric) ? "Test error" : "Test loss";
  if (axis === "width" || axis === "steps") {
    const dd = summary?.double_descent;
    if (!dd) return "";
    const at = dd.at_threshold;
    const side = (s) => (s ? `${grouped(s.width)}: ${fmtMetric(dd.metric, s.value)}` : "");
    if (dd.is_peak) {
      return `Peak at the interpolation threshold: ${fmtMetric(dd.metric, at.value)} test error with ` +
        `${grouped(at.width)} features for ${grouped(dd.threshold)} training images (${side(at.left)}; ` +
        `${side(at.right)}). Past it the error falls again, to ${fmtMetric(dd.metric, dd.widest.value)} at ` +
        `${grouped(dd.widest.width)} features.`;
    }
    const why = summary?.definition?.ridge > 0
      ? "With ridge λ > 0 the read-out never fits every label exactly: set λ = 0 to see the peak."
      : "Give widths just below and just above the number of training images.";
    return `No peak at p = n: ${fmtMetric(dd.metric, at.value)} at ${grouped(at.width)} features ` +
      `(${side(at.left)}; ${side(at.right)}). ${why}`;
  }
  const entry = summary?.fits?.[metric]?.[axis];
  if (!entry || entry.x.length < 2) return "";
  const pairs = entry.x.map((x, i) => [x, entry.y[i]]).sort((a, b) => a[0] - b[0]);
  const [x0, y0] = pairs[0], [x1, y1] = pairs[pairs.length - 1];
  const grows = { parameters: "the model grows", train_size: "the training set grows", flops: "training compute grows" }[axis];
  const ratio = x1 / x0;
  const times = `${ratio >= 10 ? grouped(Math.round(ratio)) : +ratio.toPrecision(2)}×`;
  const alpha = entry.fit ? `: α = ${entry.fit.alpha.toFixed(2)}` : "";
  if (y1 < y0) {
    return `${what} falls from ${fmtMetric(metric, y0)} to ${fmtMetric(metric, y1)} as ${grows} ${times}${alpha}` +
      (entry.fit && entry.fit.floor > 0 ? `, flattening towards ${fmtMetric(metric, entry.fit.floor)}.` : ".");
  }
  return `${what} does not fall as ${grows} ${times}: ${fmtMetric(metric, y0)} → ${fmtMetric(metric, y1)}.`;
}
