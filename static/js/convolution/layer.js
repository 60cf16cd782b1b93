// Parts 3 and 4: a conv layer on a 32×32×3 image (each filter's three channel slices, each
// channel's response, their sum plus bias, the output volume as a stack of maps, the slide's
// three questions answered with the numbers on screen) and the parameter / memory calculator.

import { css, diverging } from "../colors.js";
import { rawValues } from "../grid.js";
import { api, fmt, padding } from "./num.js";

const $ = (s) => document.querySelector(s);
const PX = 3; // screen pixels per map pixel

function canvas(w, h, scale, fill, label) {
  const cv = document.createElement("canvas");
  cv.width = w; cv.height = h;
  cv.style.width = `${w * scale}px`; cv.style.height = `${h * scale}px`;
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(w, h);
  fill(img.data);
  ctx.putImageData(img, 0, 0);
  if (label) cv.setAttribute("aria-label", label);
  return cv;
}

/** One symmetric uint8 map (encoding.symmetric_stack): q → value/max in [−1, 1] → diverging. */
function mapCanvas(grid, scale, label) {
  const q = rawValues(grid);
  const [h, w] = grid.shape;
  return canvas(w, h, scale, (px) => {
    for (let i = 0; i < h * w; i++) {
      const c = diverging(q[i] / 127.5 - 1);
      px[i * 4] = c[0]; px[i * 4 + 1] = c[1]; px[i * 4 + 2] = c[2]; px[i * 4 + 3] = 255;
    }
  }, label);
}

function kernelCanvas(w2d, max, label) {
  const k = w2d.length;
  const cell = Math.max(4, Math.round(24 / Math.sqrt(k)));
  return canvas(w2d[0].length, k, cell, (px) => {
    w2d.flat().forEach((v, i) => {
      const c = diverging(v / max);
      px[i * 4] = c[0]; px[i * 4 + 1] = c[1]; px[i * 4 + 2] = c[2]; px[i * 4 + 3] = 255;
    });
  }, label);
}

function div(cls, ...children) {
  const d = document.createElement("div");
  d.className = cls;
  d.append(...children);
  return d;
}

export function createLayer({ params, update, showError, ready, images }) {
  let drawn = false, pending = null;

  function fillControls() {
    const p = params();
    $("#cv-limage").replaceChildren(...images.map((i) => new Option(i.title, i.name)));
    $("#cv-limage").value = p.limage; $("#cv-lfilters").value = p.lfilters; $("#cv-lk").value = p.lk;
    $("#cv-lpad").value = p.lpad; $("#cv-lstride").value = p.lstride; $("#cv-lkind").value = p.lkind;
    $("#cv-seed").value = p.seed;
    $("#cv-seed").closest(".field").hidden = p.lkind !== "random";
  }

  async function refresh() {
    const mine = (pending = Symbol("layer"));
    const p = params();
    fillControls();
    try {
      const body = await api("/api/v1/convolution/apply", {
        image: p.limage, channels: "rgb", size: [32, 32], padding: Number(p.lpad), stride: Number(p.lstride),
        flip: !!p.flip, include: ["channels", "input"],
        filters: { kind: p.lkind, count: Number(p.lfilters), size: Number(p.lk), seed: Number(p.seed) },
      });
      if (mine !== pending) return;
      showError("");
      render(body);
      if (!drawn) { drawn = true; ready(); }
    } catch (err) {
      if (mine === pending) showError(err.message);
    }
  }

  function render(b) {
    $("#cv-vol").style.zoom = "";
    const p = params();
    const [C, H, W] = b.input_shape;
    const [D, Ho, Wo] = b.shape;
    const k = Number(p.lk);
    const pad = Number(p.lpad), s = Number(p.lstride);
    $("#cv-vol-head").innerHTML = `<b>${H}×${W}×${C}</b> input → <b>${D}</b> filter${D > 1 ? "s" : ""} of ` +
      `<b>${k}×${k}×${C}</b> (padding ${pad}, stride ${s}) → output <b id="cv-vol-out">${Ho}×${Wo}×${D}</b>` +
      ` · ${b.parameters.weights_per_filter}·${D} + ${D} = <b>${b.parameters.total.toLocaleString("en-US")}</b> parameters`;
    const q = rawValues(b.input);
    const rgb = canvas(W, H, PX, (px) => {
      for (let i = 0; i < H * W; i++) {
        px[i * 4] = q[i]; px[i * 4 + 1] = q[H * W + i]; px[i * 4 + 2] = q[2 * H * W + i]; px[i * 4 + 3] = 255;
      }
    }, "the input image");
    const chan = (c) => canvas(W, H, 1.5, (px) => {
      for (let i = 0; i < H * W; i++) {
        const v = q[c * H * W + i];
        px[i * 4] = c === 0 ? v : 0; px[i * 4 + 1] = c === 1 ? v : 0; px[i * 4 + 2] = c === 2 ? v : 0; px[i * 4 + 3] = 255;
      }
    }, ["red", "green", "blue"][c]);
    const rows = [
      div("h", "filter"), div("h", "its 3 channel slices (R, G, B)"), div("h", "each channel's response"),
      div("h", ""), div("h", "output map"),
      div("name", "input"), div("trio", chan(0), chan(1), chan(2)), div("trio", rgb), div("eq", ""), div("", ""),
    ];
    for (let o = 0; o < D; o++) {
      const wmax = Math.max(1e-12, ...b.weights[o].flat(2).map(Math.abs)); // each filter on its own scale
      const slices = b.weights[o].map((w2d, c) => kernelCanvas(w2d, wmax, `filter ${o + 1} ${"RGB"[c]} slice`));
      const resp = [0, 1, 2].map((c) => mapCanvas(b.per_channel.maps[o * C + c], 1.5, `response of ${"RGB"[c]}`));
      rows.push(div("name", `${o + 1}. ${b.names[o]}`), div("trio", ...slices), div("trio", ...resp),
        div("eq", `Σ + ${fmt(b.bias[o])} =`), mapCanvas(b.maps[o], PX, `output map ${o + 1}`));
    }
    const stack = div("cv-stack");
    const off = 10;
    stack.style.width = `${Wo * 2 + off * (D - 1)}px`;
    stack.style.height = `${Ho * 2 + off * (D - 1)}px`;
    b.maps.slice().reverse().forEach((m, r) => {
      const cv = mapCanvas(m, 2);
      const o = D - 1 - r;
      cv.style.left = `${o * off}px`; cv.style.top = `${(D - 1 - o) * off}px`;
      stack.append(cv);
    });
    rows.push(div("name", "output volume"), div("", `${Ho}×${Wo}×${D}: ${D} map${D > 1 ? "s" : ""} stacked`), stack,
      div("", ""), div("", ""));
    $("#cv-vol").replaceChildren(...rows);
    fit();
    const h = b.sizes.height;
    $("#cv-questions").innerHTML = `<h2>The slide's questions</h2><ol>
      <li><b>What is the 3 in ${k}×${k}×3?</b> The input's channels (R, G, B): a filter always spans the full depth
        of its input, so each filter has ${k}·${k}·3 = ${b.parameters.weights_per_filter} weights + 1 bias.</li>
      <li><b>The output size with padding ${pad}?</b> ⌊(${h.n} + 2·${pad} − ${k}) / ${s}⌋ + 1 = <b>${h.out}</b>:
        ${Ho}×${Wo}×${D}${pad === 0 ? "" : ` (without padding: ${Math.floor((h.n - k) / s) + 1}×${Math.floor((W - k) / s) + 1}×${D})`}.</li>
      <li><b>Does it depend on the number of weights?</b> No: on the input size, kernel, padding and stride only.
        ${D} filters give ${D} maps of ${Ho}×${Wo}; change the filters or their weights and the maps change, not their size.</li></ol>`;
  }

  /** The volume figure shrinks to its panel's width (a phone), and in an embed to its height too
   * (no scrolling on a slide). */
  function fit() {
    const box = $(".cv-volume"), vol = $("#cv-vol");
    vol.style.zoom = "";
    if (box.closest("[hidden]")) return;
    const head = $("#cv-vol-head").offsetHeight;
    const embed = document.documentElement.classList.contains("embed");
    const tall = embed ? (box.clientHeight - head - 16) / vol.scrollHeight : 1;
    const z = Math.min(1, tall, (box.clientWidth - 16) / vol.scrollWidth);
    if (z < 1) vol.style.zoom = String(Math.max(0.3, z));
  }
  window.addEventListener("resize", fit);

  // ---- the calculator ----
  let calcPending = null;
  function fillCalc() {
    const p = params();
    for (const key of ["ch", "cw", "cc", "units", "cfilters", "ck", "cstride"]) $(`#cv-${key}`).value = p[key];
    $("#cv-cpad").value = p.cpad;
  }

  async function refreshCalc() {
    const mine = (calcPending = Symbol("calc"));
    const p = params();
    fillCalc();
    try {
      const r = await api("/api/v1/convolution/params", {
        height: Number(p.ch), width: Number(p.cw), channels: Number(p.cc), units: Number(p.units),
        filters: Number(p.cfilters), kernel: Number(p.ck), padding: padding(p.cpad), stride: Number(p.cstride),
      });
      if (mine !== calcPending) return;
      showError("");
      const fc = r.fully_connected, cv = r.convolutional;
      const mb = (bytes) => `${fmt(+(bytes / 2 ** 20).toPrecision(3))} MB`;
      $("#cv-calc").innerHTML = `
        <section class="fc"><h3>Fully connected: ${fmt(Number(p.units), { grouped: true })} units</h3>
          <div class="big" id="cv-fc-params">${fmt(fc.parameters, { grouped: true })}</div><p>parameters</p>
          <p class="mono">${fc.written}</p>
          <p>activations: ${fmt(fc.activations, { grouped: true })} floats per example (${mb(fc.activation_bytes)});
             weights ${mb(fc.parameter_bytes)} as float32</p></section>
        <section class="cv"><h3>Convolutional: ${fmt(Number(p.cfilters), { grouped: true })} filters of ${p.ck}×${p.ck}×${p.cc}</h3>
          <div class="big" id="cv-conv-params">${fmt(cv.parameters, { grouped: true })}</div><p>parameters</p>
          <p class="mono">${cv.written}</p>
          <p>activations: ${cv.output_written} (${mb(cv.activation_bytes)}); weights ${mb(cv.parameter_bytes)}</p></section>
        <p class="ratio">The conv layer has <b>${fmt(Math.round(r.parameter_ratio), { grouped: true })}×</b> fewer parameters,
          because each filter is shared across every position — but it produces ${fmt(Math.round(cv.activations / fc.activations), { grouped: true })}×
          more numbers per example to keep for backprop.</p>`;
      if (!drawn) { drawn = true; ready(); }
    } catch (err) {
      if (mine === calcPending) showError(err.message);
    }
  }

  for (const [id, key] of [["#cv-limage", "limage"], ["#cv-lfilters", "lfilters"], ["#cv-lk", "lk"], ["#cv-lpad", "lpad"],
                           ["#cv-lstride", "lstride"], ["#cv-lkind", "lkind"], ["#cv-seed", "seed"]]) {
    $(id).addEventListener("change", () => update({ [key]: $(id).value }));
  }
  for (const key of ["ch", "cw", "cc", "units", "cfilters", "ck", "cpad", "cstride"]) {
    $(`#cv-${key}`).addEventListener("change", () => update({ [key]: $(`#cv-${key}`).value }));
  }
  return { refresh, refreshCalc, fillControls, fillCalc };
}
