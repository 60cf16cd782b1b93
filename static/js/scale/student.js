// A student's page of a class experiment: join, train the cell the sweep hands out in a cell
// session of your own (watched live), keep its lease while training, post the result to the
// sweep, then take another cell. The class's pooled plot is read every few seconds.

import { openStream } from "../stream.js";
import { describeError } from "../errors.js";
import { drawPlot } from "./plot.js";
import { defaultAxis, fmtMetric, plotFor, story } from "./views.js";

const $ = (sel) => document.querySelector(sel);
const root = $("#sj");
const SWEEP = root.dataset.sweep;
const API = "/api/v1/scale";
const KEY = `np-scale-student-${SWEEP}`;
const FRAMES_PER_CELL = 90; // a cell plays in about three seconds at 30 frames a second

let token = sessionStorage.getItem(KEY);
let number = null;
let job = null; // {k, cell, shape, lease, lease_url, result_url}
let session = null;
let stream = null;
let renewTimer = null;
let lastFrame = null;
let summary = null;
const mine = new Set(); // width/depth/train_size of the cells this student sent
const sent = []; // test errors of the cells this student sent

async function api(path, body, method = body === undefined ? "GET" : "POST") {
  const r = await fetch(path.startsWith("/api") ? path : API + path, {
    method, headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = r.status === 204 ? null : await r.json().catch(() => ({}));
  if (!r.ok) {
    const err = new Error(data?.detail ? describeError(data.detail) : `error ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return data;
}

function say(text, kind = "") {
  const el = $("#sj-msg");
  el.textContent = text;
  el.hidden = !text;
  el.className = `banner ${kind}`;
}

function describe(cell) {
  const model = { mlp: `MLP, ${cell.depth > 1 ? `${cell.depth} layers of ` : ""}${cell.width} ReLU units`,
    cnn: `ConvNet, ${cell.width} + ${2 * cell.width} filters`,
    random_features: `${cell.width} random ReLU features, least squares` }[cell.model];
  const noise = cell.label_noise ? `, ${Math.round(cell.label_noise * 100)} % noisy labels` : "";
  const budget = cell.model === "random_features" ? "solved exactly" : `${cell.steps} steps`;
  return `${model} · ${cell.train_size} training images of ${cell.dataset}${noise} · seed ${cell.seed} · ${budget}`;
}

async function join() {
  try {
    const answer = await api(`/sweeps/${SWEEP}/join`, token ? { student: token } : {});
    token = answer.student;
    number = answer.number;
    sessionStorage.setItem(KEY, token);
    $("#sj-who").textContent = `You are student #${number}.`;
    if (answer.cells.length) {
      await train(answer.cells[0], answer.lease_seconds);
    } else {
      job = null;
      const complete = answer.progress.done === answer.progress.total;
      say(complete ? "The experiment is complete: every cell is on the lecturer's plot. Thank you!"
        : "Every cell is taken right now; waiting for one to come free.", complete ? "ok" : "");
      if (!complete) setTimeout(() => $("#sj-more").checked && !job && join(), 5000); // a lapsed lease frees one
    }
  } catch (err) {
    say(err.status === 404 ? "This class experiment has ended." : `Could not join: ${err.message}`, "danger");
  }
}

async function train(next, leaseSeconds) {
  job = next;
  lastFrame = null;
  $("#sj-cell").textContent = describe(job.cell);
  $("#sj-total").textContent = job.shape.units;
  $("#sj-progress").max = job.shape.units;
  say("Training…");
  const created = await api("/sessions", job.cell);
  session = created.id;
  clearInterval(renewTimer);
  renewTimer = setInterval(renew, Math.max(1000, (leaseSeconds * 1000) / 3));
  const posted = { done: false };
  stream = openStream(`${API}/sessions/${session}/stream`, {
    open: () => {
      stream.send({ type: "speed", steps_per_frame: Math.max(1, Math.ceil(job.shape.units / FRAMES_PER_CELL)) });
      stream.send({ type: "play" });
    },
    frame: (frame) => {
      lastFrame = frame;
      drawMine(frame);
      if (frame.done && frame.result && !posted.done) {
        posted.done = true;
        finish(frame.result);
      }
    },
    error: (msg) => say(describeError(msg.message), "danger"),
  }, { recreate: () => (posted.done ? null : train(job, leaseSeconds)) }); // the session is gone: the cell again
}

async function renew() {
  if (!job) return;
  try {
    await api(job.lease_url, { lease: job.lease });
  } catch (err) {
    if (err.status === 409) { // our lease lapsed and another student has the cell now
      stop();
      say("This cell went to another student; taking a new one.");
      next();
    }
  }
}

function stop() {
  clearInterval(renewTimer);
  stream?.close();
  stream = null;
  if (session) api(`/sessions/${session}`, undefined, "DELETE").catch(() => {});
  session = null;
}

async function finish(result) {
  const cell = job.cell;
  try {
    const answer = await api(job.result_url, { lease: job.lease, result });
    if (answer.accepted) {
      mine.add(`${cell.width}/${cell.depth}/${cell.train_size}`);
      sent.push(fmtMetric("test_error", result.test_error));
      const el = $("#sj-sent");
      el.hidden = false;
      el.textContent = `You sent ${sent.length} cell${sent.length === 1 ? "" : "s"} to the class plot ` +
        `(test error ${sent.join(", ")}).`;
    }
    say(answer.accepted
      ? `Sent: test error ${fmtMetric("test_error", result.test_error)}. Your point is on the lecturer's plot.`
      : `Not counted: ${answer.reason}.`, answer.accepted ? "ok" : "");
  } catch (err) {
    say(`The result was not accepted: ${err.message}`, "danger");
  }
  stop();
  job = null;
  await refresh();
  next();
}

function next() {
  if ($("#sj-more").checked) setTimeout(join, 1500);
}

function drawMine(frame) {
  $("#sj-step").textContent = frame.units;
  $("#sj-progress").value = frame.units;
  const c = frame.curve;
  const last = c.test_error.length ? c.test_error[c.test_error.length - 1] : null;
  $("#sj-error").textContent = fmtMetric("test_error", frame.result ? frame.result.test_error : last);
  const rf = job?.cell.model === "random_features";
  drawPlot($("#sj-plot"), {
    series: [
      { label: "test error", color: "rgb(8,48,107)", points: c.step.map((x, i) => ({ x, y: c.test_error[i] })) },
      { label: "training error", color: "#8a8f94", dash: [5, 4], small: true,
        points: c.step.map((x, i) => ({ x, y: c.train_error[i] })) },
    ],
    xLog: true, yLog: false, xLabel: rf ? "Gradient-descent steps" : "Training steps",
    yLabel: "Error", yFormat: (v) => `${Math.round(v * 100)} %`,
  });
}

async function refresh() {
  try {
    summary = await api(`/sweeps/${SWEEP}?view=summary`);
  } catch {
    return;
  }
  const params = { model: summary.definition.model, widths: summary.definition.widths, depths: summary.definition.depths };
  const axis = defaultAxis(params);
  const view = plotFor(axis, "test_error", summary, [], params.model, mine);
  drawPlot($("#sj-class-plot"), view);
  const s = summary.students, p = summary.progress;
  const line = story(axis, "test_error", summary);
  $("#sj-class-note").textContent = `${p.done} of ${p.total} cells done, from ${s.contributed} student` +
    `${s.contributed === 1 ? "" : "s"}. Your results are ringed in orange.${line ? ` ${line}` : ""}`;
}

window.addEventListener("resize", () => {
  if (lastFrame) drawMine(lastFrame);
  if (summary) refresh();
});
window.addEventListener("pagehide", stop);
setInterval(refresh, 6000);
refresh();
join();
