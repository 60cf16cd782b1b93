// Part 2, kernels on real images: the gallery, a custom kernel, original and filtered side by
// side (signed outputs in the diverging colours, |x| or clipped), hovering a pixel to see its
// neighbourhood × kernel = value (a trace from the server), a student's own picture or drawing,
// and the blur-size sweep. Every number comes from /api/v1/convolution (apply, trace).

import { css, diverging } from "../colors.js";
import { decode, rawValues } from "../grid.js";
import { api, factor, fmt, padding, parse } from "./num.js";

const $ = (s) => document.querySelector(s);
const SWEEP = [3, 5, 7, 9, 11, 13, 15];
const DRAW_SIDE = 128;

function put(canvas, w, h, fill) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  fill(img.data);
  ctx.putImageData(img, 0, 0);
  return img;
}

/** uint8/uint16 (C, H, W) values → RGBA pixels: grey or RGB, by `how` (signed | abs | clip). */
function paint(canvas, values, C, H, W, how, channel = null, m = scaleOf(values)) {
  const n = H * W;
  return put(canvas, W, H, (px) => {
    for (let i = 0; i < n; i++) {
      let rgb;
      if (channel !== null || C === 1) {
        const v = values[(channel ?? 0) * n + i];
        if (how === "signed") rgb = diverging(v / m);
        else { const g = how === "abs" ? (255 * Math.abs(v)) / m : Math.max(0, Math.min(255, v)); rgb = [g, g, g]; }
      } else {
        rgb = [0, 1, 2].map((c) => {
          const v = values[c * n + i];
          return how === "abs" ? (255 * Math.abs(v)) / m : Math.max(0, Math.min(255, v));
        });
      }
      px[i * 4] = rgb[0]; px[i * 4 + 1] = rgb[1]; px[i * 4 + 2] = rgb[2]; px[i * 4 + 3] = 255;
    }
  });
}

/** The colour scale of signed and |x| pictures: the 99th percentile of |value| (a few extreme
 * pixels would otherwise wash every edge out to grey); values beyond it get full colour. */
function scaleOf(values) {
  const a = Float32Array.from(values, Math.abs).sort();
  return Math.max(1e-12, a[Math.min(a.length - 1, Math.floor(a.length * 0.99))] || 0);
}

function moveText(moved) {
  if (!moved) return "";
  const { down, right } = moved;
  if (!down && !right) return "The filtered picture is the original, unchanged.";
  const parts = [];
  if (right) parts.push(`${Math.abs(right)} pixel${Math.abs(right) > 1 ? "s" : ""} ${right > 0 ? "right" : "left"}`);
  if (down) parts.push(`${Math.abs(down)} pixel${Math.abs(down) > 1 ? "s" : ""} ${down > 0 ? "down" : "up"}`);
  return `The filtered picture is the original moved ${parts.join(" and ")}.`;
}

function kernelHTML(w) {
  const m = Math.max(1e-12, ...w.flat().map(Math.abs));
  return w.map((row) => row.map((v) => `<span style="background:${css(diverging(0.6 * v / m))}">${fmt(v)}</span>`).join("")).join("");
}

export function createFilters({ params, update, showError, catalog, ready }) {
  let result = null, input = null, base = { orig: null, out: null };
  let own = null; // {kind: "upload" | "drawing", pixels: {height, width, channels, data}}
  let drawing = false, pending = null, hoverBusy = false, hoverNext = null, drawn = false;
  const byName = Object.fromEntries(catalog.kernels.map((k) => [k.name, k]));

  $("#cv-max-side").textContent = catalog.max_image_side;
  $("#cv-image").replaceChildren(...catalog.images.map((i) => new Option(i.title, i.name)),
    new Option("your picture", "upload"), new Option("your drawing", "drawing"));
  $("#cv-gallery").replaceChildren(...catalog.kernels.map((k) => {
    const b = document.createElement("button");
    b.type = "button"; b.role = "radio"; b.dataset.kernel = k.name; b.textContent = k.title.replace(/ \(.*\)$/, "");
    b.title = k.effect;
    return b;
  }), Object.assign(document.createElement("button"), { type: "button", role: "radio", textContent: "custom" }));
  $("#cv-gallery").lastChild.dataset.kernel = "custom";

  function kernelNow() {
    const p = params();
    if (p.kname === "custom") return JSON.parse(p.custom);
    return null;
  }

  function source() {
    const p = params();
    if ((p.image === "upload" || p.image === "drawing") && own?.kind === p.image) return { pixels: own.pixels };
    return { image: p.image === "upload" || p.image === "drawing" ? catalog.images[0].name : p.image };
  }

  function request(extra = {}) {
    const p = params();
    const custom = kernelNow();
    return { ...source(), channels: p.channels, padding: padding(p.ipad), mode: p.imode, flip: !!p.flip,
             ...(custom ? { kernel: custom } : { kernel: p.kname, kernel_size: Number(p.ksize) }), ...extra };
  }

  function fillControls() {
    const p = params();
    $("#cv-image").value = p.image; $("#cv-channels").value = p.channels; $("#cv-display").value = p.display;
    $("#cv-ipad").value = p.ipad; $("#cv-imode").value = p.imode; $("#cv-repeat").value = p.repeat;
    $("#cv-repeat-v").textContent = p.repeat;
    const info = byName[p.kname];
    const ks = $("#cv-ksize");
    ks.disabled = !info || info.sizes.length === 1;
    if (info) { ks.min = info.sizes[0]; ks.max = info.sizes[info.sizes.length - 1]; ks.step = info.sizes[1] - info.sizes[0] || 1; }
    ks.value = p.ksize; $("#cv-ksize-v").textContent = info ? `${p.ksize}×${p.ksize}` : "";
    document.querySelectorAll("#cv-gallery button").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.kernel === p.kname)));
    $("#cv-kernel-effect").textContent = info
      ? `${info.title}: ${info.effect}${p.flip ? ". Flipped (true convolution): a shift now goes the other way" : ""}.`
      : "Your own kernel: type the weights below.";
    const custom = kernelNow();
    $("#cv-csize").value = custom ? custom.length : $("#cv-csize").value;
    $("#cv-clear").hidden = p.image !== "drawing";
    renderCustom(custom);
  }

  function renderCustom(w) {
    const k = w || JSON.parse(params().custom || "null") || [[0, 0, 0], [0, 1, 0], [0, 0, 0]];
    const box = $("#cv-custom");
    box.style.gridTemplateColumns = `repeat(${k.length}, auto)`;
    box.replaceChildren(...k.flat().map((v, i) => {
      const inp = Object.assign(document.createElement("input"), { type: "text", value: String(v), inputMode: "decimal" });
      inp.setAttribute("aria-label", `weight row ${Math.floor(i / k.length) + 1} column ${(i % k.length) + 1}`);
      inp.dataset.i = i;
      return inp;
    }));
  }

  function readCustom() {
    const cells = [...document.querySelectorAll("#cv-custom input")];
    const n = Math.round(Math.sqrt(cells.length));
    const vals = cells.map((c) => parse(c.value));
    const bad = cells.find((c, i) => !Number.isFinite(vals[i]));
    if (bad) { showError(`“${bad.value}” in the custom kernel is not a number`); return null; }
    return Array.from({ length: n }, (_, i) => vals.slice(i * n, i * n + n));
  }

  async function refresh() {
    const mine = (pending = Symbol("apply"));
    if (params().image === "drawing" && own?.kind !== "drawing") startDrawing(false);
    if (params().image === "upload" && own?.kind !== "upload") {
      // a link cannot carry a student's picture (it never leaves their browser but for this request)
      update({ image: catalog.images[0].name }, { quiet: true });
    }
    const p = params();
    fillControls();
    try {
      const body = await api("/api/v1/convolution/apply", request({ repeat: Number(p.repeat), include: ["input"] }));
      if (mine !== pending) return;
      showError("");
      result = body;
      input = body.input;
      renderPictures();
      renderSweep(mine);
      if (!drawn) { drawn = true; ready(); }
    } catch (err) {
      if (mine === pending) showError(err.message);
    }
  }

  function renderPictures() {
    const p = params();
    const [C, H, W] = input.shape;
    if (!drawing) base.orig = paint($("#cv-orig"), rawValues(input), C, H, W, "clip");
    const out = result.output;
    const [Co, Ho, Wo] = out.shape;
    const values = decode(out.grid);
    const m = scaleOf(values);
    const how = p.display === "auto" ? (out.range[0] < 0 ? "signed" : "clip") : p.display;
    const signedRGB = Co === 3 && how === "signed";
    $("#cv-out").hidden = signedRGB;
    $("#cv-out-rgb").hidden = !signedRGB;
    if (signedRGB) {
      const box = $("#cv-out-rgb");
      box.replaceChildren(...["R", "G", "B"].map((name, c) => {
        const fig = document.createElement("figure");
        const cv = document.createElement("canvas");
        paint(cv, values, Co, Ho, Wo, "signed", c, m);
        fig.append(cv, Object.assign(document.createElement("span"), { textContent: name }));
        return fig;
      }));
    } else {
      base.out = paint($("#cv-out"), values, Co, Ho, Wo, how, null, m);
    }
    $("#cv-kernel-view").style.gridTemplateColumns = `repeat(${result.kernel[0].length}, auto)`;
    $("#cv-kernel-view").innerHTML = kernelHTML(result.kernel);
    const name = p.kname === "custom" ? "custom kernel" : byName[p.kname].title.replace(/ \(.*\)$/, "");
    $("#cv-kernel-cap").textContent = `${p.flip ? "∗ flipped" : "⋆"} ${name}`;
    $("#cv-orig-cap").textContent = `original ${H}×${W}${C === 3 ? "×3" : ""}`;
    $("#cv-out-cap").textContent = `filtered ${Ho}×${Wo}${Number(p.repeat) > 1 ? ` (applied ${p.repeat}×)` : ""}`;
    const [lo, hi] = out.range;
    const range = `output from <b>${fmt(lo)}</b> to <b>${fmt(hi)}</b>`;
    $("#cv-legend").innerHTML = (how === "signed"
      ? `<span class="legend"><span>−${fmt(m)}</span><span class="scale"></span><span>+${fmt(m)}</span></span> ${range}: orange below zero, blue above (full colour from ±${fmt(m)}, the 99th percentile of |output|)`
      : how === "abs" ? `|output| from 0 (black) to ${fmt(m)} (white, the 99th percentile); ${range}`
        : `${range}, clipped to 0–255 for display`) + `<br><b id="cv-moved">${moveText(result.moved)}</b>`;
    $("#cv-rf").textContent = `Each output pixel sees ${result.receptive_field}×${result.receptive_field} input pixels ` +
      `(receptive field of ${p.repeat} × a ${result.kernel.length}×${result.kernel.length} kernel).`;
  }

  let sweepKey = "";
  async function renderSweep(mine) {
    const box = $("#cv-sweep");
    if (box.closest("[hidden]")) return;
    const p = params();
    const name = byName[p.kname]?.sizes.length > 8 ? p.kname : "box_blur";
    const key = JSON.stringify([source(), name, p.flip, own?.pixels?.data?.length]);
    if (key === sweepKey) return;
    sweepKey = key;
    const small = input.shape[1] > 96 || input.shape[2] > 96;
    const scale = small ? 96 / Math.max(input.shape[1], input.shape[2]) : 1;
    const size = [Math.max(1, Math.round(input.shape[1] * scale)), Math.max(1, Math.round(input.shape[2] * scale))];
    const figs = SWEEP.map((k) => {
      const fig = document.createElement("figure");
      fig.append(document.createElement("canvas"), Object.assign(document.createElement("figcaption"), { textContent: `k = ${k}` }));
      return fig;
    });
    box.replaceChildren(...figs);
    await Promise.all(SWEEP.map(async (k, i) => {
      const body = await api("/api/v1/convolution/apply", { ...source(), size, channels: "grey", kernel: name,
        kernel_size: k, padding: "same", mode: "replicate", flip: !!p.flip }).catch(() => null);
      if (!body || key !== sweepKey) return;
      const [C, H, W] = body.output.shape;
      paint(figs[i].querySelector("canvas"), decode(body.output.grid), C, H, W, "clip");
    }));
  }

  // ---- hover: the neighbourhood × kernel = value, traced by the server ----

  function hoverAt(ev) {
    if (drawing || !result) return;
    const canvas = ev.currentTarget;
    const r = canvas.getBoundingClientRect();
    const [, Ho, Wo] = result.output.shape;
    let i, j;
    if (canvas.id === "cv-orig") { // the input pixel under the pointer: the window centred on it
      const [, H, W] = input.shape;
      const y = Math.floor(((ev.clientY - r.top) / r.height) * H), x = Math.floor(((ev.clientX - r.left) / r.width) * W);
      const [kh, kw] = [result.kernel.length, result.kernel[0].length];
      const s = result.stride, d = result.dilation;
      i = Math.round((y + result.padding[0][0] - (d * (kh - 1)) / 2) / s);
      j = Math.round((x + result.padding[1][0] - (d * (kw - 1)) / 2) / s);
    } else {
      i = Math.floor(((ev.clientY - r.top) / r.height) * Ho);
      j = Math.floor(((ev.clientX - r.left) / r.width) * Wo);
    }
    i = Math.min(Ho - 1, Math.max(0, i));
    j = Math.min(Wo - 1, Math.max(0, j));
    hoverNext = [i, j];
    if (!hoverBusy) hoverLoop();
  }

  async function hoverLoop() {
    hoverBusy = true;
    while (hoverNext) {
      const at = hoverNext;
      hoverNext = null;
      const p = params();
      try {
        const t = await api("/api/v1/convolution/trace", request({ positions: [at], depthwise: true,
                                                                    repeat: Number(p.repeat) }));
        showHover(t);
      } catch (err) {
        $("#cv-hover").textContent = err.message;
      }
    }
    hoverBusy = false;
  }

  function showHover(t) {
    const win = t.windows[0];
    const w = t.applied[0];
    const table = (vals) => `<table>${vals.map((row) => `<tr>${row.map((v) => `<td>${fmt(v)}</td>`).join("")}</tr>`).join("")}</table>`;
    const chans = win.values.length === 3 ? ["R", "G", "B"] : [""];
    const sums = win.sums || [win.sum];
    const rep = t.repeat > 1 ? ` (application ${t.repeat} of ${t.repeat})` : "";
    $("#cv-hover").innerHTML = `<div>output pixel (${win.i}, ${win.j})${rep}: neighbourhood × kernel = value</div>` +
      chans.map((c, k) => `<div>${c ? `<b>${c}</b> ` : ""}${table(win.values[k])} × ${table(w)} = ` +
        `<b>${fmt(sums[k])}</b></div>`).join("");
    $("#cv-hover").title = chans.map((c, k) => `${c} ` + win.values[k].flat().map((v, n) => `${factor(v)}·${factor(w.flat()[n])}`).join(" + ")).join("\n");
    outline(win);
  }

  function outline(win) {
    const [, H, W] = input.shape;
    for (const [id, img] of [["#cv-orig", base.orig], ["#cv-out", base.out]]) {
      const cv = $(id);
      if (!img || cv.hidden) continue;
      const ctx = cv.getContext("2d");
      ctx.putImageData(img, 0, 0);
      ctx.strokeStyle = "#f59322";
      ctx.lineWidth = Math.max(1, W / 128);
      if (id === "#cv-orig") {
        const [[pt], [pl]] = result.padding;
        const r0 = win.rows[0] - pt, c0 = win.cols[0] - pl;
        ctx.strokeRect(c0, r0, win.cols.length, win.rows.length);
      } else {
        ctx.strokeRect(win.j - 0.5, win.i - 0.5, 2, 2);
      }
      void H;
    }
  }

  // ---- a student's picture: loaded or drawn, decoded here, sent as pixels ----

  async function upload(file) {
    try {
      const bmp = await createImageBitmap(file);
      const side = catalog.max_image_side;
      const scale = Math.min(1, side / Math.max(bmp.width, bmp.height));
      const w = Math.max(1, Math.round(bmp.width * scale)), h = Math.max(1, Math.round(bmp.height * scale));
      const cv = document.createElement("canvas");
      cv.width = w; cv.height = h;
      cv.getContext("2d").drawImage(bmp, 0, 0, w, h);
      own = { kind: "upload", pixels: pixelsOf(cv) };
      update({ image: "upload" });
    } catch {
      showError(`${file.name}: the browser could not decode this picture`);
    }
  }

  function pixelsOf(cv) {
    const data = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    let bin = "";
    for (let i = 0; i < data.length; i += 8192) bin += String.fromCharCode(...data.subarray(i, i + 8192));
    return { height: cv.height, width: cv.width, channels: 4, data: btoa(bin) };
  }

  function startDrawing(clear) {
    const cv = $("#cv-orig");
    if (clear || !own || own.kind !== "drawing") {
      cv.width = DRAW_SIDE; cv.height = DRAW_SIDE;
      const ctx = cv.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, DRAW_SIDE, DRAW_SIDE);
      own = { kind: "drawing", pixels: pixelsOf(cv) };
    }
    drawing = true;
    $("#cv-draw").textContent = "Done drawing";
    $("#cv-orig-cap").textContent = "draw here (drag)";
  }

  function stroke(ev) {
    if (!drawing || ev.buttons !== 1) return;
    const cv = $("#cv-orig");
    const r = cv.getBoundingClientRect();
    const ctx = cv.getContext("2d");
    ctx.fillStyle = "#111";
    ctx.beginPath();
    ctx.arc(((ev.clientX - r.left) / r.width) * cv.width, ((ev.clientY - r.top) / r.height) * cv.height, 5, 0, 2 * Math.PI);
    ctx.fill();
  }

  $("#cv-orig").addEventListener("pointermove", (ev) => { stroke(ev); hoverAt(ev); });
  $("#cv-orig").addEventListener("pointerdown", stroke);
  $("#cv-orig").addEventListener("pointerup", () => {
    if (!drawing) return;
    own = { kind: "drawing", pixels: pixelsOf($("#cv-orig")) };
    if (params().image !== "drawing") update({ image: "drawing" }); else refresh();
  });
  $("#cv-out").addEventListener("pointermove", hoverAt);
  $("#cv-draw").addEventListener("click", () => {
    if (drawing) { drawing = false; $("#cv-draw").textContent = "Draw"; refresh(); return; }
    startDrawing(false);
    update({ image: "drawing" });
  });
  $("#cv-clear").addEventListener("click", () => { startDrawing(true); refresh(); });
  $("#cv-file").addEventListener("change", (ev) => { const f = ev.target.files[0]; ev.target.value = ""; if (f) upload(f); });
  $("#cv-gallery").addEventListener("click", (ev) => {
    const name = ev.target.closest("button")?.dataset.kernel;
    if (!name) return;
    if (name === "custom") return update({ kname: "custom", custom: params().custom || JSON.stringify(readCustom()) });
    const info = byName[name];
    const size = info.sizes.includes(Number(params().ksize)) ? Number(params().ksize) : info.default_size;
    update({ kname: name, ksize: size });
  });
  for (const [id, key] of [["#cv-image", "image"], ["#cv-channels", "channels"], ["#cv-display", "display"],
                           ["#cv-ipad", "ipad"], ["#cv-imode", "imode"]]) {
    $(id).addEventListener("change", () => {
      if (key === "image" && $(id).value === "drawing") startDrawing(false);
      update({ [key]: $(id).value });
    });
  }
  $("#cv-ksize").addEventListener("input", () => { $("#cv-ksize-v").textContent = `${$("#cv-ksize").value}×${$("#cv-ksize").value}`; });
  $("#cv-ksize").addEventListener("change", () => update({ ksize: Number($("#cv-ksize").value) }));
  $("#cv-repeat").addEventListener("input", () => { $("#cv-repeat-v").textContent = $("#cv-repeat").value; });
  $("#cv-repeat").addEventListener("change", () => update({ repeat: Number($("#cv-repeat").value) }));
  $("#cv-custom").addEventListener("change", () => { const k = readCustom(); if (k) update({ kname: "custom", custom: JSON.stringify(k) }); });
  $("#cv-csize").addEventListener("change", () => {
    const n = Number($("#cv-csize").value);
    const old = readCustom() || [[1]];
    const off = (old.length - n) / 2;
    const k = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => old[i + off]?.[j + off] ?? 0));
    update({ kname: "custom", custom: JSON.stringify(k) });
  });
  $("#cv-normalise").addEventListener("click", () => {
    // the engine's rule (engine/kernels.normalise): ÷ Σw, or ÷ Σ|w|/2 when Σw = 0
    const k = readCustom();
    if (!k) return;
    const flat = k.flat(), sum = flat.reduce((a, b) => a + b, 0), abs = flat.reduce((a, b) => a + Math.abs(b), 0);
    const d = Math.abs(sum) > 1e-12 * Math.max(1, abs) ? sum : abs / 2 || 1;
    update({ kname: "custom", custom: JSON.stringify(k.map((row) => row.map((v) => +(v / d).toPrecision(6)))) });
  });
  $("#cv-from-gallery").addEventListener("click", () => {
    if (result) update({ kname: "custom", custom: JSON.stringify(result.kernel.map((r) => r.map((v) => +v.toPrecision(6)))) });
  });

  return { refresh, fillControls, canvases: () => [$("#cv-orig"), $("#cv-out")] };
}
