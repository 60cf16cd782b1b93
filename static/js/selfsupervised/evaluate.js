// The lab's evaluation panels: the linear-probe table (filled cell by cell as the background
// job reports), the τ / N sweep charts, and the nearest neighbours of a clicked image.

import { drawChart } from "../chart.js";
import { CLASS_PALETTE, drawImage } from "./draw.js";

const $ = (id) => document.getElementById(id);
const pct = (a) => (a === null || a === undefined ? "–" : `${(100 * a).toFixed(1)} %`);
const fix = (v) => (v === null || v === undefined ? "–" : v.toFixed(2));
const COLUMNS = [0.01, 0.1, 1.0];

/** Fill the probe table from a probe job's state ({state, done, total, step, cells}). */
export function showProbe(job) {
  const table = $("ssl-probe-table");
  const progress = $("ssl-probe-progress");
  const button = $("ssl-probe-run");
  for (const td of table.querySelectorAll("tbody td")) {
    td.textContent = ""; td.className = "";
  }
  if (!job) {
    progress.textContent = "";
    button.disabled = false;
    return;
  }
  const byRow = {};
  for (const c of job.cells) (byRow[c.row] ||= {})[c.fraction] = c;
  for (const tr of table.querySelectorAll("tbody tr")) {
    const row = tr.dataset.row;
    const wanted = job.rows?.includes(row);
    tr.querySelectorAll("td").forEach((td, j) => {
      const cell = byRow[row]?.[COLUMNS[j]];
      if (cell) {
        td.textContent = pct(cell.accuracy);
        td.title = `${cell.labelled} labelled images per draw; test accuracy per draw: ` +
          cell.accuracies.map(pct).join(", ");
        const bar = document.createElement("span");
        bar.className = "bar";
        const fill = document.createElement("i");
        fill.style.width = `${Math.round(100 * (cell.accuracy ?? 0))}%`;
        bar.append(fill);
        td.append(bar);
      } else {
        td.textContent = wanted && job.state !== "done" ? "…" : "–";
        td.className = "pending";
      }
    });
  }
  // the best encoder of each column in bold
  COLUMNS.forEach((f, j) => {
    const cells = ["contrastive", "random", "supervised"].map((r) => byRow[r]?.[f]).filter(Boolean);
    if (cells.length < 2) return;
    const best = cells.reduce((a, b) => ((b.accuracy ?? 0) > (a.accuracy ?? 0) ? b : a));
    table.querySelector(`tr[data-row="${best.row}"]`).querySelectorAll("td")[j].classList.add("best");
  });
  const running = job.state === "queued" || job.state === "running";
  button.disabled = running;
  const what = `encoder at step ${job.step}`;
  progress.textContent = job.state === "queued" ? `waiting for a free slot on the server (${what})…`
    : running ? `computing… ${Math.round((100 * job.done) / job.total)} % (${what}; the supervised row trains an encoder per draw)`
    : job.state === "done" ? `done: the ${what}.`
    : job.state === "failed" ? `failed: ${job.error}` : "stopped.";
  const c = byRow.contrastive, r = byRow.random;
  const verdict = $("ssl-probe-note");
  if (c && r && c[0.01] && r[0.01]) {
    const gain = (f) => (c[f] && r[f] ? (100 * (c[f].accuracy - r[f].accuracy)).toFixed(0) : null);
    verdict.innerHTML = "";
    const b = document.createElement("b");
    const better = COLUMNS.every((f) => !c[f] || !r[f] || c[f].accuracy > r[f].accuracy);
    b.textContent = better
      ? `Contrastive beats random by ${COLUMNS.map(gain).filter((g) => g !== null).join(" / ")} points`
      : "The contrastive encoder does not beat the random one yet: train longer";
    verdict.append(b, " (1 % / 10 % / 100 % of the labels) — its encoder never saw a label; " +
      "the probe is a logistic regression on its frozen output h.");
  }
}

const TAUS = [0.05, 0.1, 0.2, 0.5, 1.0];
const SIZES = [4, 8, 16, 32, 64];

/** Draw the sweep's two charts from a sweep job's state (empty axes before the first). */
export function showSweep(job) {
  const progress = $("ssl-sweep-progress");
  $("ssl-sweep-run").disabled = Boolean(job && (job.state === "running" || job.state === "queued"));
  $("ssl-sweep-stop").hidden = !job || !(job.state === "running" || job.state === "queued");
  if (!job) job = { taus: TAUS, batch_sizes: SIZES, points: [], state: "none", total: 1, done: 0 };
  const pts = job.points || [];
  const plot = (canvas, param, values, xLabel, log) => {
    const got = pts.filter((p) => p.param === param);
    const acc = values.map((v) => got.find((p) => p.value === v)?.accuracy ?? null);
    const x = values.map((v) => (log ? Math.log2(v) : v));
    drawChart(canvas, {
      x, xLabel, yLabel: "probe acc. %",
      series: [
        // an invisible 0 … 100 keeps the axis in percent before the first point
        { values: x.map((_, i) => (i === 0 ? 0 : i === x.length - 1 ? 100 : null)), color: "transparent" },
        { values: acc.map((a) => (a === null ? null : 100 * a)), color: "#0877bd", label: "probe accuracy" },
      ],
    });
  };
  plot($("ssl-sweep-tau"), "tau", job.taus, "temperature τ", false);
  plot($("ssl-sweep-n"), "batch_size", job.batch_sizes, "log₂ N (images a batch)", true);
  const running = job.state === "running" || job.state === "queued";
  progress.textContent = job.state === "none" ? "" : job.state === "queued" ? "waiting for a free slot on the server…"
    : running ? `run ${Math.min(job.total, Math.floor(job.done) + 1)} of ${job.total} (${Math.round((100 * job.done) / job.total)} %)`
    : job.state === "done" ? `done: ${pts.length} runs of ${job.steps} steps.`
    : job.state === "failed" ? `failed: ${job.error}` : `stopped after ${pts.length} runs.`;
  const table = $("ssl-sweep-table");
  table.hidden = !pts.length;
  table.tBodies[0].replaceChildren(...pts.map((p) => {
    const tr = document.createElement("tr");
    const name = p.param === "tau" ? `τ = ${p.value}` : `N = ${p.value}`;
    const cells = [name, p.diverged ? "diverged" : pct(p.accuracy), fix(p.alignment), fix(p.uniformity), fix(p.loss)];
    tr.append(...cells.map((text, i) => {
      const el = document.createElement(i ? "td" : "th");
      if (!i) el.scope = "row";
      el.textContent = text;
      return el;
    }));
    return tr;
  }));
  if (pts.length) {
    const best = (param) => {
      const got = pts.filter((p) => p.param === param && p.accuracy !== null);
      return got.length ? got.reduce((a, b) => (b.accuracy > a.accuracy ? b : a)) : null;
    };
    const bt = best("tau"), bn = best("batch_size");
    const parts = [];
    if (bt) parts.push(`best τ ${bt.value} (${(100 * bt.accuracy).toFixed(1)} %)`);
    if (bn) parts.push(`best N ${bn.value} (${(100 * bn.accuracy).toFixed(1)} %)`);
    $("ssl-sweep-note").textContent = `${parts.join(" · ")} — ${job.steps} steps a run from this seed, ` +
      `τ runs at N = ${job.batch_size}, N runs at τ = ${job.tau}, probed with ${job.fraction * 100} % of the labels.`;
  }
}

/** The nearest neighbours of a held-out image (the API's answer). */
export function showNeighbours(answer, classes) {
  const box = $("ssl-nn");
  box.replaceChildren();
  const row = document.createElement("div");
  row.className = "row";
  const fig = (k, label, cls, text) => {
    const f = document.createElement("figure");
    f.className = cls;
    const c = document.createElement("canvas");
    drawImage(c, answer.images, k);
    const cap = document.createElement("figcaption");
    cap.textContent = text;
    cap.style.color = CLASS_PALETTE[label % CLASS_PALETTE.length];
    f.append(c, cap);
    return f;
  };
  row.append(fig(0, answer.label, "query", `${classes[answer.label]} ●`));
  answer.neighbours.forEach((n, i) => {
    row.append(fig(i + 1, n.label, n.label === answer.label ? "same" : "", `${classes[n.label]} · ${n.cosine.toFixed(2)}`));
  });
  const note = document.createElement("p");
  note.className = "note";
  const same = answer.neighbours.filter((n) => n.label === answer.label).length;
  note.textContent = `Held-out image ${answer.index} (a ${classes[answer.label]}, ringed orange) and its ` +
    `${answer.neighbours.length} nearest images by cosine of z at step ${answer.step}: ${same} of the same class.`;
  box.append(row, note);
}
