// Part 1, step by step: a session on the server slides the window (REST to create it, the
// WebSocket stream to step and play); this module draws each frame, writes the sum out, fills
// the output-size formula and lets a person edit cells and sizes.

import { commandQueue, openStream } from "../stream.js";
import { arrangementFor, draw } from "./picture.js";
import { api, factor, fmt, padding, parse, rng, signClass } from "./num.js";

const $ = (s) => document.querySelector(s);
export const RATES = [0.5, 1, 2, 4, 8, 15, 30];
const PLAY = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M7 4l13 8-13 8z"/></svg>';
const PAUSE = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M6 4h4v16H6zM14 4h4v16h-4z"/></svg>';

/** The step-by-step's configuration for the API, from the lab's parameters. */
export function stepConfig(p) {
  return { input: JSON.parse(p.input), kernel: JSON.parse(p.kernel), padding: padding(p.padding), mode: p.mode,
           stride: Number(p.stride), dilation: Number(p.dilation), flip: !!p.flip, rate: Number(p.rate) };
}

function resize(grid, h, w) {
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => grid[i]?.[j] ?? 0));
}

export function createStepper({ params, update, showError, ready }) {
  let stream = null, cfg = null, frame = null, playing = false, sid = null, starting = null;
  const commands = commandQueue(); // a key pressed before the session exists waits for it

  function fillControls() {
    const p = params();
    const x = JSON.parse(p.input), k = JSON.parse(p.kernel);
    $("#cv-h").value = x.length; $("#cv-w").value = x[0].length; $("#cv-k").value = k.length;
    const pad = $("#cv-pad");
    const opts = [...Array.from({ length: k.length + 1 }, (_, i) => String(i)), "same", "valid"];
    pad.replaceChildren(...opts.map((o) => new Option(o, o)));
    pad.value = String(p.padding);
    $("#cv-mode").value = p.mode; $("#cv-stride").value = p.stride; $("#cv-dilation").value = p.dilation;
    $("#cv-rate").value = String(p.rate);
  }

  async function start() {
    if (starting) return starting;
    starting = (async () => {
      try {
        const body = await api("/api/v1/convolution/sessions", stepConfig(params()));
        sid = body.id;
        stream = openStream(`/api/v1/convolution/sessions/${sid}/stream`, {
          config: (m) => { cfg = m.config; render(); },
          frame: (m) => { frame = m; showError(""); render(); ready(); },
          status: (m) => { playing = m.playing; renderButtons(); },
          error: (m) => showError(m.message),
          session: (id) => { sid = id; }, // the run was rebuilt elsewhere (stream.js)
        }, { recreate: () => start() }); // the session is gone: the same walk again, from the URL
        commands.attach(stream);
      } catch (err) {
        showError(err.message);
      } finally {
        starting = null;
      }
    })();
    return starting;
  }

  /** The parameters changed: the session starts over with them (or is created). */
  function configure() {
    fillControls();
    if (!stream) { start(); return; }
    stream.send({ type: "pause" });
    stream.send({ type: "set", params: stepConfig(params()) });
  }

  function render() {
    if (!cfg) return;
    // A slide's frame gives the picture a fixed box: the grids take the arrangement that draws
    // them largest in it; a page gives the width only.
    const svg = $("#cv-svg");
    const fixed = document.documentElement.matches(".embed.np-compact");
    const box = svg.getBoundingClientRect();
    const arrangement = arrangementFor(cfg, fixed ? box.width : svg.parentElement.clientWidth, fixed ? box.height : null);
    draw(svg, cfg, frame, { onEdit: edit, editable: !playing, arrangement });
    $("#cv-step-count").textContent = frame ? frame.step : 0;
    $("#cv-step-total").textContent = cfg.positions;
    renderSum();
    renderFormula();
    renderButtons();
  }

  function renderSum() {
    const win = frame?.window;
    if (!win) {
      $("#cv-sum").textContent = "Press Step (→) or Play: the window slides one position per step.";
      return;
    }
    const terms = [];
    win.values[0].forEach((row, u) => row.forEach((v, w) => terms.push(`${factor(v)}·${factor(cfg.applied[0][u][w])}`)));
    const bias = cfg.bias ? ` + ${factor(cfg.bias)}` : "";
    $("#cv-sum").innerHTML = `out[${win.i}, ${win.j}] = ${terms.join(" + ")}${bias} = ` +
      `<b class="${signClass(win.sum)}" id="cv-last-sum">${fmt(win.sum)}</b>`;
  }

  function axisLine(name, a, sym) {
    const p = a.before === a.after ? `2·${a.before}` : `${a.before} + ${a.after}`;
    const nums = `⌊(${a.n} + ${p} − ${a.dilation}·(${a.k} − 1) − 1) / ${a.stride}⌋ + 1`;
    return `<div>${sym}<sub>out</sub> = ${nums}</div><div class="eq2">= <span class="floor">⌊${fmt(a.numerator)} / ${a.stride}⌋</span> + 1 ` +
      `= <b id="cv-${name}-out">${a.out}</b></div>`;
  }

  function renderFormula() {
    const { height: h, width: w } = cfg.sizes;
    const two = h.before === h.after && w.before === w.after;
    $("#cv-formula").innerHTML = `<div class="muted">out = ⌊(n + ${two ? "2p" : "p₁ + p₂"} − d·(k − 1) − 1) / s⌋ + 1</div>` +
      axisLine("h", h, "H") + axisLine("w", w, "W") + `<div>output <b id="cv-out-size">${h.out}×${w.out}</b></div>`;
    const notes = [];
    for (const [a, lines] of [[h, "row"], [w, "column"]]) {
      if (a.remainder > 0) {
        notes.push(`⌊${a.numerator} / ${a.stride}⌋ = ${Math.floor(a.numerator / a.stride)} drops a remainder of ` +
          `${a.remainder}: the last ${a.remainder} ${lines}${a.remainder > 1 ? "s" : ""} never fall under the window (hatched).`);
      }
      if (a.stride > a.span) notes.push(`stride ${a.stride} > the window's ${a.span}: ${lines}s between windows are skipped.`);
    }
    $("#cv-floor").textContent = notes.join(" ");
    const same = h.same;
    $("#cv-same").hidden = !same;
    if (same) {
      $("#cv-same").textContent = h.stride === 1
        ? `“same” keeps the size: ${h.n} in, ${h.out} out, padding d·(k − 1) = ${same.total} (${same.before} before, ${same.after} after).`
        : `“same” at stride ${h.stride} means ⌈H / s⌉ = ⌈${h.n} / ${h.stride}⌉ = ${same.out} outputs (TensorFlow's ` +
          `meaning): ${same.total} padding in total, ${same.before} before and ${same.after} after — only as much as the last window needs.`;
    }
  }

  function renderButtons() {
    $("#cv-play").innerHTML = playing ? PAUSE : PLAY;
    $("#cv-play").setAttribute("aria-label", playing ? "Pause" : "Play");
    $("#cv-play").disabled = !!frame?.done && !playing;
  }

  function edit(kind, r, c, target) {
    if (playing) return;
    const p = params();
    const grid = JSON.parse(kind === "input" ? p.input : p.kernel);
    const box = target.getBoundingClientRect();
    const editor = $("#cv-editor"), input = $("#cv-editor-input");
    editor.hidden = false;
    editor.style.left = `${box.left}px`;
    editor.style.top = `${box.top + box.height / 2 - 16}px`;
    input.value = grid[r][c];
    input.focus();
    input.select();
    const done = (save) => {
      editor.hidden = true;
      input.onkeydown = input.onblur = null;
      if (!save) return;
      const v = parse(input.value);
      if (!Number.isFinite(v)) { showError(`“${input.value}” is not a number: a cell takes a number like 3 or −1.5`); return; }
      grid[r][c] = v;
      update({ [kind]: JSON.stringify(grid) });
    };
    input.onkeydown = (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); done(true); }
      if (ev.key === "Escape") done(false);
    };
    input.onblur = () => done(true);
  }

  async function fill(kind) {
    const p = params();
    const x = JSON.parse(p.input), k = JSON.parse(p.kernel);
    const H = x.length, W = x[0].length, K = k.length;
    const seed = Number(p.seed) + 1;
    if (kind === "lecture") {
      const lec = JSON.parse(document.getElementById("cv-catalog").textContent).lecture;
      return update({ input: JSON.stringify(lec.input), kernel: JSON.stringify(lec.kernel), padding: "0", stride: 1,
                      dilation: 1 });
    }
    if (kind === "random") {
      const r = rng(seed);
      return update({ seed, input: JSON.stringify(resize([], H, W).map((row) => row.map(() => Math.floor(r() * 10)))),
                      kernel: JSON.stringify(resize([], K, K).map((row) => row.map(() => Math.floor(r() * 5) - 2))) });
    }
    if (kind === "patch") {
      const img = await api(`/api/v1/convolution/images/camera?channels=grey&height=${H}&width=${W}`);
      const bin = atob(img.pixels.data);
      const vals = resize([], H, W).map((row, i) => row.map((_, j) => Math.round(bin.charCodeAt(i * W + j) / 255 * 9)));
      return update({ input: JSON.stringify(vals) });
    }
    if (kind === "edge") return update({ input: JSON.stringify(resize([], H, W).map((row) => row.map((_, j) => (j < W / 2 ? 0 : 9)))) });
    if (kind === "checker") return update({ input: JSON.stringify(resize([], H, W).map((row, i) => row.map((_, j) => (i + j) % 2))) });
    if (kind === "shift") {
      const n = Math.max(3, K % 2 ? K : K + 1);
      const w = resize([], n, n);
      w[(n - 1) / 2][(n - 1) / 2 - 1] = 1; // the lecture's: its 1 left of centre
      return update({ kernel: JSON.stringify(w), padding: "same" });
    }
    return null;
  }

  function sizeChange() {
    const p = params();
    const h = Math.max(3, Math.min(16, Number($("#cv-h").value) || 3));
    const w = Math.max(3, Math.min(16, Number($("#cv-w").value) || 3));
    const k = Math.max(1, Math.min(7, Number($("#cv-k").value) || 1));
    const pad = $("#cv-pad").value;
    const nextPad = /^\d+$/.test(pad) ? String(Math.min(Number(pad), k)) : pad;
    update({
      input: JSON.stringify(resize(JSON.parse(p.input), h, w)), kernel: JSON.stringify(resize(JSON.parse(p.kernel), k, k)),
      padding: nextPad, mode: $("#cv-mode").value, stride: Number($("#cv-stride").value) || 1,
      dilation: Number($("#cv-dilation").value) || 1,
    });
  }

  for (const id of ["#cv-h", "#cv-w", "#cv-k", "#cv-pad", "#cv-mode", "#cv-stride", "#cv-dilation"]) {
    $(id).addEventListener("change", sizeChange);
  }
  $("#cv-rate").addEventListener("change", () => setRate(Number($("#cv-rate").value)));
  document.querySelectorAll("[data-fill]").forEach((b) => b.addEventListener("click", () => fill(b.dataset.fill)));
  $("#cv-play").addEventListener("click", () => controller.toggle());
  $("#cv-step-btn").addEventListener("click", () => controller.step());
  $("#cv-reset").addEventListener("click", () => controller.reset());
  window.addEventListener("resize", () => render());

  function setRate(rate) {
    update({ rate }, { quiet: true });
    commands.send({ type: "set", params: { rate } });
  }

  const controller = {
    toggle() {
      if (frame?.done && !playing) commands.send({ type: "reset" });
      commands.send({ type: playing ? "pause" : "play" });
    },
    step() { commands.send({ type: "step", n: 1 }); },
    reset() { commands.send({ type: "reset" }); },
    faster() { shiftRate(1); },
    slower() { shiftRate(-1); },
    playing: () => playing,
  };

  function shiftRate(dir) {
    const i = RATES.indexOf(Number(params().rate));
    const next = RATES[Math.max(0, Math.min(RATES.length - 1, (i < 0 ? 2 : i) + dir))];
    $("#cv-rate").value = String(next);
    setRate(next);
  }

  return { start, configure, fillControls, controller, render, frame: () => frame };
}
