// The lab toolbar (templates/partials/toolbar.html): share / embed dialog, PNG / SVG / JSON
// export and JSON import, driven through the controller the lab gave registerLab().

import { currentLab } from "./shell.js";
import { describeError } from "./errors.js";

const VIEW_KEYS = ["embed", "hide", "present", "autoplay", "preset"];
export const EXPORT_FORMAT = "neural-playground/state";
export const EXPORT_VERSION = 1;

const bar = document.querySelector(".lab-toolbar");
const dialog = document.getElementById("share-dialog");
const slug = document.body.dataset.lab;
const $ = (id) => document.getElementById(id);

function say(text, danger = false) {
  const status = bar.querySelector(".toolbar-status");
  status.textContent = text;
  status.classList.toggle("danger", danger);
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// ---- share / embed -------------------------------------------------------------------

/** The lab's parameters from the (synced) URL, without the view options. */
function labQuery() {
  const q = new URLSearchParams(location.search);
  for (const k of VIEW_KEYS) q.delete(k);
  return q;
}

/** What the dialog calls a control: its data-label (macros.ctl(name, label), app/labels.py). */
function controlLabel(el) {
  return el.dataset.label || el.dataset.control;
}

// What a slide rarely needs: the toolbar (presets, share, export, import). A page opened with
// its own ?hide= keeps that choice instead.
export const DEFAULT_HIDE = ["toolbar"];

function fillHideList() {
  const box = $("share-hide");
  const given = (document.body.dataset.hide || "").split(",").filter(Boolean);
  const hidden = new Set(given.length ? given : DEFAULT_HIDE);
  // The lab's own controls first, then the toolbar's items, each group under its heading.
  const all = [...document.querySelectorAll("[data-control]")];
  const inToolbar = (el) => el.closest(".lab-toolbar");
  const group = (title, els) => {
    const names = [...new Set(els.map((el) => el.dataset.control))];
    const part = document.createElement("div");
    part.className = "hide-group";
    const head = document.createElement("h3");
    head.textContent = title;
    const list = document.createElement("div");
    list.className = "checks";
    list.append(...names.map((name) => {
      const el = document.querySelector(`[data-control="${CSS.escape(name)}"]`);
      const label = document.createElement("label");
      label.className = "check";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = name;
      input.checked = hidden.has(name);
      label.append(input, " ", controlLabel(el));
      return label;
    }));
    part.append(head, list);
    return part;
  };
  box.replaceChildren(group("In the lab", all.filter((el) => !inToolbar(el))),
    group("In the toolbar", all.filter(inToolbar)));
}

/** The embed URL and <iframe> snippet for the current state and the dialog's choices. */
export function embedURL() {
  const q = labQuery();
  const hide = [...$("share-hide").querySelectorAll("input:checked")].map((b) => b.value);
  if (hide.length) q.set("hide", hide.join(","));
  if ($("share-autoplay").checked) q.set("autoplay", "1");
  if ($("share-present").checked) q.set("present", "1");
  const query = q.toString().replace(/%2C/gi, ",");
  return `${location.origin}/embed/${slug}${query ? `?${query}` : ""}`;
}

function escapeAttr(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

// Past this many characters chat apps, learning platforms and some proxies cut or refuse a
// link (a lab's own points make 15–60 KB): the dialog then offers a short link the server keeps.
export const LONG_LINK = 2000;
const shortLinks = new Map(); // full URL → Promise of its short URL
let shareToken = 0;

/** The short /s/<id> address of `full` (POST /api/v1/links), made once per link. */
function shorten(full) {
  if (!shortLinks.has(full)) {
    const { pathname, search } = new URL(full);
    const made = fetch("/api/v1/links", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ url: pathname + search }),
    }).then(async (r) => {
      const body = await r.json();
      if (!r.ok) throw new Error(body?.detail ? describeError(body.detail) : r.statusText);
      return `${location.origin}${body.url}`;
    });
    made.catch(() => shortLinks.delete(full));
    shortLinks.set(full, made);
  }
  return shortLinks.get(full);
}

const kb = (text) => `${Math.round(text.length / 102.4) / 10} KB`;

function updateShare() {
  const link = location.href, embed = embedURL();
  showShare(link, embed);
  const note = $("share-note");
  const long = link.length > LONG_LINK || embed.length > LONG_LINK;
  note.hidden = !long;
  if (!long) return;
  const mine = ++shareToken;
  note.textContent = `This link is ${kb(link)} long: making a short one…`;
  Promise.all([link, embed].map((u) => (u.length > LONG_LINK ? shorten(u) : u))).then(([l, e]) => {
    if (mine !== shareToken) return;
    showShare(l, e);
    note.textContent = `The full link is ${kb(link)}, too long for chat, a learning platform or some proxies: ` +
      "these short links are kept by this server and open the same run.";
  }).catch((err) => {
    if (mine === shareToken) note.textContent = `This link is ${kb(link)} long and could not be shortened: ${err.message}`;
  });
}

function showShare(link, url) {
  $("share-url").value = link;
  const w = Math.max(320, Number($("share-width").value) || 960);
  const h = Math.max(180, Number($("share-height").value) || 540);
  const title = `Neural Playground: ${document.title.split(" · ")[0]}`;
  $("share-embed-url").value = url;
  $("share-snippet").value =
    `<iframe src="${escapeAttr(url)}" width="${w}" height="${h}" title="${escapeAttr(title)}" ` +
    `style="border:0" allow="fullscreen" loading="lazy"></iframe>`;
  $("share-preview").href = url;
}

async function copy(id) {
  const field = $(id);
  const status = dialog.querySelector(".share-status");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.select(); // no clipboard API (plain http on a LAN address): the old way
    if (!document.execCommand("copy")) {
      status.textContent = "Copy by hand: the text is selected.";
      return;
    }
  }
  status.textContent = "Copied.";
}

function openShare() {
  fillHideList();
  const body = document.body.dataset;
  $("share-autoplay").checked = body.autoplay === "1";
  $("share-present").checked = body.present === "1";
  dialog.querySelector(".share-status").textContent = "";
  updateShare();
  dialog.showModal();
}

// ---- export / import -----------------------------------------------------------------

function shown(el) {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && !el.closest("[hidden]");
}

function labCanvases() {
  const lab = currentLab();
  const list = lab?.canvases ? lab.canvases() : [...document.querySelectorAll("main canvas")];
  return list.filter(shown);
}

function labSVGs() {
  const lab = currentLab();
  const list = lab?.svgs ? lab.svgs() : [...document.querySelectorAll("main svg[data-export]")];
  return list.filter(shown);
}

/** The box around `elements` on screen, and each element's place in it (CSS px). */
function layout(elements, pad = 8) {
  const rects = elements.map((el) => el.getBoundingClientRect());
  const left = Math.min(...rects.map((r) => r.left)) - pad;
  const top = Math.min(...rects.map((r) => r.top)) - pad;
  const width = Math.max(...rects.map((r) => r.right)) - left + pad;
  const height = Math.max(...rects.map((r) => r.bottom)) - top + pad;
  const places = rects.map((r) => ({ x: r.left - left, y: r.top - top, w: r.width, h: r.height }));
  return { width, height, places };
}

/**
 * The same places with the empty bands between them squeezed to `gap` (a chart far below a
 * plot on the page sits just under it in the image): along y, then along x.
 */
function squeeze({ places }, gap = 16, pad = 8) {
  for (const [pos, size] of [["y", "h"], ["x", "w"]]) {
    const order = [...places].sort((a, b) => a[pos] - b[pos]);
    let reach = pad, shift = 0;
    const moved = new Map();
    for (const p of order) {
      const start = p[pos] - shift;
      if (start > reach + gap) shift += start - (reach + gap);
      moved.set(p, p[pos] - shift);
      reach = Math.max(reach, moved.get(p) + p[size]);
    }
    for (const p of places) p[pos] = moved.get(p);
  }
  return {
    width: Math.max(...places.map((p) => p.x + p.w)) + pad,
    height: Math.max(...places.map((p) => p.y + p.h)) + pad,
    places,
  };
}

/** An <svg> as an image (its computed styles inlined), for drawing onto a canvas. */
async function svgImage(svg) {
  const clone = svg.cloneNode(true);
  inlineStyles(svg, clone);
  const r = svg.getBoundingClientRect();
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", r.width); clone.setAttribute("height", r.height);
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

const visible = (el) => {
  const s = getComputedStyle(el);
  return s.display !== "none" && s.visibility !== "hidden" && Number(s.opacity) > 0 && el.getClientRects().length;
};

/**
 * Paint a piece of the page (a canvas, an svg, or an element holding them: the MLP's network
 * of node canvases, edge svg and labels) onto ctx, whose origin is the element's top left.
 * Boxes get their background and border, canvases and svgs their pixels, text its font.
 */
async function paint(ctx, root) {
  const origin = root.getBoundingClientRect();
  const walk = [root, ...root.querySelectorAll("*")];
  for (const el of walk) {
    if (!visible(el) || el.closest("svg") && el.closest("svg") !== el) continue;
    const r = el.getBoundingClientRect();
    const x = r.left - origin.left, y = r.top - origin.top;
    const s = getComputedStyle(el);
    ctx.save();
    ctx.globalAlpha = Number(s.opacity);
    if (el instanceof HTMLCanvasElement) {
      if (el.width && el.height) ctx.drawImage(el, x, y, r.width, r.height);
    } else if (el instanceof SVGSVGElement) {
      ctx.drawImage(await svgImage(el), x, y, r.width, r.height);
    } else if (el !== root || !(root instanceof HTMLCanvasElement)) {
      if (s.backgroundColor !== "rgba(0, 0, 0, 0)" && el !== root) {
        ctx.fillStyle = s.backgroundColor; ctx.fillRect(x, y, r.width, r.height);
      }
      const bw = parseFloat(s.borderTopWidth);
      if (bw > 0 && s.borderTopStyle !== "none" && el !== root) {
        ctx.strokeStyle = s.borderTopColor; ctx.lineWidth = bw;
        ctx.strokeRect(x + bw / 2, y + bw / 2, r.width - bw, r.height - bw);
      }
      for (const node of el.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
        ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
        ctx.fillStyle = s.color; ctx.textBaseline = "middle"; ctx.textAlign = "left";
        // word by word where the page laid it out: a caption wrapped over lines stays so
        const range = document.createRange();
        for (const word of node.textContent.matchAll(/\S+/g)) {
          range.setStart(node, word.index);
          range.setEnd(node, word.index + word[0].length);
          const t = range.getBoundingClientRect();
          if (t.width) ctx.fillText(word[0], t.left - origin.left, t.top - origin.top + t.height / 2);
        }
      }
    }
    ctx.restore();
  }
}

/** Redraw the lab as on a screen `ratio` times as dense, run `action`, then draw it back. */
async function atPixelRatio(ratio, action) {
  const own = Object.getOwnPropertyDescriptor(window, "devicePixelRatio");
  const screen = window.devicePixelRatio || 1;
  const frames = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  if (ratio <= screen) return action();
  Object.defineProperty(window, "devicePixelRatio", { configurable: true, get: () => ratio });
  try {
    window.dispatchEvent(new Event("resize")); // every lab redraws its canvases on resize
    await frames();
    return await action();
  } finally {
    if (own) Object.defineProperty(window, "devicePixelRatio", own);
    else delete window.devicePixelRatio;
    window.dispatchEvent(new Event("resize"));
  }
}

/** The parts of the lab's picture: the controller's picture() (or its canvases), shown ones. */
function pictureParts() {
  const lab = currentLab();
  const parts = lab?.picture ? lab.picture() : labCanvases();
  return parts.filter(shown);
}

/**
 * The lab's picture as one PNG blob, at least twice the screen's resolution: its plots and
 * diagrams where they sit on screen, with the empty bands between them squeezed out.
 */
export async function composePNG(minScale = 2) {
  const parts = pictureParts();
  if (!parts.length) throw new Error("this view has no plots to export");
  const scale = Math.min(4, Math.max(minScale, window.devicePixelRatio || 1));
  return atPixelRatio(scale, async () => {
    const { width, height, places } = squeeze(layout(parts));
    const out = document.createElement("canvas");
    out.width = Math.round(width * scale);
    out.height = Math.round(height * scale);
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, out.width, out.height);
    for (const [i, el] of parts.entries()) {
      ctx.setTransform(scale, 0, 0, scale, places[i].x * scale, places[i].y * scale);
      await paint(ctx, el);
    }
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  });
}

const STYLE_PROPS = [
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
  "opacity", "font-family", "font-size", "font-weight", "text-anchor", "dominant-baseline",
  "visibility", "display",
];

function inlineStyles(source, clone) {
  const from = [source, ...source.querySelectorAll("*")];
  const to = [clone, ...clone.querySelectorAll("*")];
  from.forEach((el, i) => {
    const style = getComputedStyle(el);
    to[i].setAttribute("style", STYLE_PROPS.map((p) => `${p}:${style.getPropertyValue(p)}`).join(";"));
  });
}

/** The lab's SVG diagrams (and its canvases as images), composed as on screen, as SVG text. */
export function composeSVG() {
  const svgs = labSVGs();
  const canvases = labCanvases();
  const items = [...canvases, ...svgs];
  if (!svgs.length) throw new Error("this view has no diagrams to export as SVG");
  const { width, height, places } = layout(items);
  const NS = "http://www.w3.org/2000/svg";
  const root = document.createElementNS(NS, "svg");
  root.setAttribute("xmlns", NS);
  root.setAttribute("width", Math.ceil(width));
  root.setAttribute("height", Math.ceil(height));
  root.setAttribute("viewBox", `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`);
  const bg = document.createElementNS(NS, "rect");
  bg.setAttribute("width", "100%");
  bg.setAttribute("height", "100%");
  bg.setAttribute("fill", "#fff");
  root.append(bg);
  items.forEach((el, i) => {
    const p = places[i];
    let node;
    if (el instanceof HTMLCanvasElement) {
      node = document.createElementNS(NS, "image");
      node.setAttribute("href", el.toDataURL("image/png"));
      node.setAttribute("preserveAspectRatio", "none");
    } else {
      node = el.cloneNode(true);
      inlineStyles(el, node);
      if (!node.getAttribute("viewBox")) node.setAttribute("viewBox", `0 0 ${p.w} ${p.h}`);
    }
    for (const [k, v] of Object.entries({ x: p.x, y: p.y, width: p.w, height: p.h })) node.setAttribute(k, v);
    root.append(node);
  });
  return new XMLSerializer().serializeToString(root);
}

/** The export file's content: the lab's exportState() in an envelope saying what it is. */
export async function exportJSON() {
  const lab = currentLab();
  if (!lab?.exportState) throw new Error("this lab cannot export its state");
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    lab: slug,
    url: location.href,
    exported: new Date().toISOString(),
    state: await lab.exportState(),
  };
}

/** Give an exported object (envelope or bare state) back to the lab. */
export async function importJSON(obj) {
  const lab = currentLab();
  if (!lab?.importState) throw new Error("this lab cannot import a state");
  if (!obj || typeof obj !== "object") throw new Error("the file holds no JSON object");
  if (obj.format !== undefined) {
    if (obj.format !== EXPORT_FORMAT) throw new Error(`not a Neural Playground export (format ${obj.format})`);
    if (obj.version > EXPORT_VERSION) throw new Error(`export version ${obj.version} is newer than this page`);
    if (obj.lab !== slug) throw new Error(`this file is from the ${obj.lab} lab: open /labs/${obj.lab} to import it`);
    obj = obj.state;
  }
  await lab.importState(obj);
}

async function attempt(what, action) {
  try {
    await action();
  } catch (err) {
    say(`${what} failed: ${err.message}`, true);
  }
}

function enable() {
  const lab = currentLab();
  const can = {
    "export-png": Boolean(lab),
    "export-json": Boolean(lab?.exportState),
    "import-json": Boolean(lab?.importState),
  };
  for (const [action, ok] of Object.entries(can)) {
    const el = bar.querySelector(`[data-action="${action}"]`);
    el.disabled = !ok;
    el.title = ok ? el.title : "this lab does not offer it";
  }
  const svg = bar.querySelector('[data-action="export-svg"]');
  svg.hidden = !labSVGs().length;
}

if (bar) {
  bar.addEventListener("click", (ev) => {
    const action = ev.target.closest("[data-action]")?.dataset.action;
    if (action === "share") openShare();
    else if (action === "export-png") {
      attempt("PNG export", async () => {
        download(await composePNG(), `${slug}-${stamp()}.png`);
        say("PNG saved.");
      });
    } else if (action === "export-svg") {
      attempt("SVG export", async () => {
        download(new Blob([composeSVG()], { type: "image/svg+xml" }), `${slug}-${stamp()}.svg`);
        say("SVG saved.");
      });
    } else if (action === "export-json") {
      attempt("JSON export", async () => {
        const text = JSON.stringify(await exportJSON(), null, 1);
        download(new Blob([text], { type: "application/json" }), `${slug}-${stamp()}.json`);
        say("JSON saved.");
      });
    }
  });
  bar.querySelector('[data-action="import-json"]').addEventListener("change", (ev) => {
    const file = ev.target.files[0];
    ev.target.value = "";
    if (!file) return;
    attempt("Import", async () => {
      let obj;
      try {
        obj = JSON.parse(await file.text());
      } catch {
        throw new Error(`${file.name} is not JSON`);
      }
      await importJSON(obj);
      say(`Imported ${file.name}.`);
    });
  });
  // The presets popover opens under its button, inside the window.
  const menu = document.getElementById("presets-menu");
  const opener = bar.querySelector('[popovertarget="presets-menu"]');
  menu?.addEventListener("toggle", (ev) => {
    if (ev.newState !== "open") return;
    const r = opener.getBoundingClientRect();
    const width = menu.offsetWidth;
    menu.style.left = `${Math.max(8, Math.min(r.right - width, innerWidth - width - 8))}px`;
    const below = innerHeight - r.bottom - 12;
    if (below >= 160 || below >= r.top) {
      menu.style.top = `${r.bottom + 4}px`;
      menu.style.maxHeight = `${below}px`;
    } else {
      menu.style.maxHeight = `${r.top - 12}px`;
      menu.style.top = `${Math.max(8, r.top - 4 - Math.min(menu.scrollHeight, r.top - 12))}px`;
    }
  });
  document.addEventListener("np:lab-ready", enable);
  document.addEventListener("np:lab-drawn", enable);
  if (currentLab()) enable();
}

// ---- the opened preset: named on the Presets button and in its hint while it still holds ----

// Keys that change how a run plays, not what it shows: they keep the preset's name.
const PACE_KEYS = ["speed"];

function settingsKey() {
  const q = labQuery();
  for (const k of PACE_KEYS) q.delete(k);
  return [...q.entries()].map(([k, v]) => `${k}=${v}`).sort().join("&");
}

const presetButton = bar?.querySelector("button.presets");
const presetHint = document.querySelector("[data-preset-hint]");
if (document.body.dataset.preset && (presetButton || presetHint)) {
  const named = presetButton?.innerHTML;
  const current = document.querySelector("#presets-menu a[aria-current]");
  let baseline = null; // the settings the preset opened with, once the lab has drawn them
  const follow = () => {
    if (baseline === null) return;
    const holds = settingsKey() === baseline;
    if (presetButton) {
      if (holds) presetButton.innerHTML = named; else presetButton.textContent = "Presets";
    }
    if (presetHint) presetHint.classList.toggle("np-off", !holds);
    if (current) {
      if (holds) current.setAttribute("aria-current", "true"); else current.removeAttribute("aria-current");
    }
  };
  document.addEventListener("np:lab-drawn", () => { if (baseline === null) baseline = settingsKey(); follow(); });
  document.addEventListener("np:url-synced", follow);
}
presetHint?.addEventListener("click", () => {
  presetHint.setAttribute("aria-expanded", String(presetHint.getAttribute("aria-expanded") !== "true"));
});
presetHint?.addEventListener("keydown", (ev) => { if (ev.key === "Enter") presetHint.click(); });

if (dialog) {
  dialog.addEventListener("input", updateShare);
  dialog.addEventListener("change", updateShare);
  dialog.addEventListener("click", (ev) => {
    const id = ev.target.closest("[data-copy]")?.dataset.copy;
    if (id) copy(id);
    if (ev.target === dialog) dialog.close(); // a click on the backdrop
  });
  document.addEventListener("np:url-synced", () => dialog.open && updateShare());
}
