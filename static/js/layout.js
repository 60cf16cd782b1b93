// The compact layout every lab gets in a slide's iframe and on a phone: the lab's main picture
// first and as large as the frame allows, the transport strip beside or under it, the controls
// in what is left. shell.js applies it; static/css/layout.css styles it.
//
// THE CONVENTION (what a lab template marks; nothing else is needed):
//   data-main-picture     the lab's main picture: ONE element, a <canvas> or a box holding the
//                         picture (a canvas, an svg, or the few figures it is made of). Its
//                         drawing code sizes to the element's client size and redraws on window
//                         resize. The value is the picture's aspect ratio width/height, default
//                         1: data-main-picture="1.25". A picture that reflows to any shape in a
//                         range (a plot, a network drawn in columns) gives the range,
//                         data-main-picture="1.1 2.4"; a phone gets the first (tallest) shape.
//   data-bar              what must stay next to the picture: play / step / reset, counters,
//                         the verdict banner. Any number of elements, kept in page order.
//   data-dock-first       panels the controls column shows first (the step's arithmetic, the
//                         network beside the output); any number, in page order.
//   data-part             a lab in parts (tabs) marks each part; the parts not shown carry
//                         `hidden`. Each part may mark its own picture, bar and dock-first
//                         panels: the shown part's are used. After showing another part the lab
//                         calls relayout() (shell.js exports it).
// Everything else in <main> (the toolbar, the lab's other panels and controls) goes into the
// dock after them, in page order, with the page's own structure and ids; event listeners stay.
// A lab adapts its panels to the narrow dock with CSS under `html.np-compact` (see
// static/css/<lab>.css). `?hide=` still hides controls one by one; a `.panel` left with
// nothing but headings disappears (on every page), and an empty dock gives the picture the frame.
//
// When: always in an embed (html.embed, /embed/<lab>); on a full page while the window is at
// most 700 px wide (a phone; the page scrolls there, the picture at full width on top).
// Wider again, the page gets its own layout back. <html class="np-compact"> marks it.
//
// An embed's frame is fitted here (fit()): the picture beside the controls column (np-beside),
// or, when folding the controls away gives a wide picture much more room, at the frame's full
// width above the strip, the ⚙ button bringing the controls column back (np-above); a
// portrait frame has the picture above the strip and the controls below it (np-inline).

const NARROW = window.matchMedia("(max-width: 700px)");
const DOCK_MIN = 240; // px the controls column keeps beside the picture
const BAR_MIN = 176; // px of a column holding the strip alone (controls folded away)
let state = null; // {main, layout, stage, bar, dock, side, originals, places, aspect} while compact
let dockWanted = null; // the ⚙ button's choice (open / closed), else the arrangement's default
// The strip's height (a banner appearing in it takes room from a picture above it); fitted in
// the next frame, so the fit's own changes never loop back into the observer.
const watcher = window.ResizeObserver ? new ResizeObserver(() => requestAnimationFrame(() => fit())) : null;

function box(cls, tag = "div") {
  const el = document.createElement(tag);
  el.className = cls;
  return el;
}

/** Whether something a viewer needs is left in the dock (a control, a panel, a banner). */
function dockHasContent(dock) {
  return [...dock.querySelectorAll("[data-control], .panel, .banner")].some((el) => {
    if (!el.checkVisibility?.() && el.offsetParent === null) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  });
}

const QUIET = "h1, h2, h3, h4, .visually-hidden, script, template";

/** Not drawn at all: hidden, or display: none by the page's CSS (a key an embed leaves out). */
function unseen(el) {
  return el.hidden || getComputedStyle(el).display === "none";
}

/** Nothing but headings and hidden controls in `el` (it holds at least one control). */
function showsNothing(el) {
  if (!el.querySelector("[data-control]")) return false;
  return [...el.children].every((c) => unseen(c) || c.matches(QUIET) ||
    (!c.hasAttribute("data-control") && showsNothing(c)));
}

/** Mark the panels whose every control ?hide= removed: no empty bordered box stays. */
function markEmptyPanels() {
  for (const panel of document.querySelectorAll("main .panel")) {
    panel.classList.toggle("np-empty", showsNothing(panel));
  }
}

function markEmptyDock() {
  if (!state) return;
  const { layout } = state;
  const closed = layout.classList.contains("np-dock-closed"); // folded is not empty: look inside
  layout.classList.remove("np-dock-closed", "np-dock-empty");
  const empty = !dockHasContent(state.dock);
  layout.classList.toggle("np-dock-closed", closed);
  layout.classList.toggle("np-dock-empty", empty);
  fit();
}

/** Inside a part of the lab that is not shown (another tab). */
function elsewhere(el) {
  return Boolean(el.closest("[data-part][hidden]"));
}

/** The picture's aspect ratios [tallest, widest] from data-main-picture ("1.3" or "1.1 2.4"). */
function aspectOf(el) {
  const values = (el.dataset.mainPicture || "").trim().split(/\s+/).map(Number).filter((v) => v > 0);
  const lo = values[0] || 1;
  return [lo, Math.max(lo, values[1] || lo)];
}

/**
 * Take the focus off a control inside `root` before its nodes move: a focused input taken out
 * of the page fires its pending change event while the page is half rearranged, and the lab's
 * handler then finds its other controls missing. Blurring first fires it with the page whole;
 * `refocus` gives the focus back once the nodes are in place.
 */
function release(root) {
  const focused = document.activeElement;
  if (!focused || !root.contains(focused)) return null;
  focused.blur();
  return focused;
}

function refocus(el) {
  if (el?.isConnected) el.focus({ preventScroll: true });
}

function apply() {
  const main = document.querySelector("main");
  const stage = [...(main?.querySelectorAll("[data-main-picture]") || [])].find((el) => !elsewhere(el));
  if (!stage || state) return;
  const held = release(main);
  const bars = [...main.querySelectorAll("[data-bar]")].filter((el) => !stage.contains(el) && !elsewhere(el));
  const firsts = [...main.querySelectorAll("[data-dock-first]")].filter((el) => !elsewhere(el));
  const originals = [...main.childNodes];
  const places = new Map();
  for (const el of [stage, ...bars, ...firsts]) {
    const mark = document.createComment("np-layout");
    el.before(mark);
    places.set(el, mark);
  }
  const layout = box("np-layout");
  const stageBox = box("np-stage");
  const side = box("np-side");
  const bar = box("np-bar");
  const dock = box("np-dock");
  dock.id = "np-dock";
  const aspect = aspectOf(stage);
  layout.style.setProperty("--stage-aspect", String(aspect[0]));
  stageBox.append(stage); // always shown: ?hide= of its panel hides the panel's other parts
  bar.append(...bars);
  dock.append(...firsts, ...originals);
  state = { main, layout, stage, stageBox, bar, dock, side, originals, places, aspect, fitted: "" };
  if (document.documentElement.classList.contains("embed")) {
    // A slide may want the picture alone: the dock folds away and comes back.
    const toggle = box("np-dock-toggle", "button");
    toggle.type = "button";
    toggle.setAttribute("aria-controls", "np-dock");
    toggle.addEventListener("click", () => {
      dockWanted = layout.classList.contains("np-dock-closed");
      fit(true);
    });
    bar.append(toggle);
    state.toggle = toggle;
  }
  side.append(bar, dock);
  layout.append(stageBox, side);
  main.append(layout);
  refocus(held);
  document.documentElement.classList.add("np-compact");
  watcher?.disconnect();
  watcher?.observe(bar);
  markEmptyPanels();
  markEmptyDock();
}

function restore() {
  if (!state) return;
  const held = release(state.main);
  for (const [el, mark] of state.places) mark.replaceWith(el);
  state.main.replaceChildren(...state.originals);
  refocus(held);
  document.documentElement.classList.remove("np-compact");
  state = null;
  markEmptyPanels();
}

/** The largest box inside bw × bh whose aspect ratio lies in [lo, hi]. */
function within(bw, bh, [lo, hi]) {
  bw = Math.max(0, bw); bh = Math.max(0, bh);
  if (bw > bh * hi) return { w: bh * hi, h: bh };
  if (bw < bh * lo) return { w: bw, h: bw / lo };
  return { w: bw, h: bh };
}

function showToggle(open) {
  const toggle = state.toggle;
  if (!toggle) return;
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = open ? "⚙ ▾" : "⚙ ▸";
  toggle.title = open ? "Fold the controls away" : "Show the controls";
  toggle.setAttribute("aria-label", open ? "Hide the controls" : "Show the controls");
}

/**
 * Size an embed's picture to its frame. With the controls open: the picture beside their
 * column. Folded (or nothing left to show in them): the picture beside the strip, or at the
 * frame's full width above it, whichever is larger. The controls start open unless folding
 * them gives a wide picture clearly more room; the ⚙ button switches. A portrait frame has
 * the picture above the strip and the controls below. `changed`: the ⚙ button was pressed.
 */
function fit(changed = false) {
  if (!state || !document.documentElement.classList.contains("embed")) return;
  const { layout, bar, aspect } = state;
  const gap = parseFloat(getComputedStyle(layout).columnGap) || 8;
  const pad = parseFloat(getComputedStyle(state.main).paddingTop) || 0;
  const W = innerWidth - 2 * pad, H = innerHeight - 2 * pad;
  const empty = layout.classList.contains("np-dock-empty");
  const barShown = [...bar.children].some((el) => el.getClientRects().length);
  // The strip's height at the frame's full width (under a picture above it).
  layout.classList.add("np-above");
  layout.classList.remove("np-beside", "np-inline");
  const barH = barShown ? bar.offsetHeight : 0;
  const room = (column) => within(W - (column ? gap + column : 0), H, aspect);
  const area = (p) => p.w * p.h;
  const above = within(W, H - (barH ? gap + barH : 0), aspect);
  const narrow = room(barShown ? BAR_MIN : 0);
  let mode, pic;
  const open = !empty && (dockWanted ?? area(above) <= 1.15 * area(room(DOCK_MIN)));
  if (innerHeight > innerWidth) {
    mode = "inline";
    pic = within(W, Math.min(0.62 * H, H - (barH ? gap + barH : 0) - (open ? 120 : 0)), aspect);
  } else if (open) {
    mode = "beside";
    pic = room(DOCK_MIN);
  } else {
    [mode, pic] = area(above) > area(narrow) ? ["above", above] : ["beside", narrow];
  }
  layout.classList.toggle("np-beside", mode === "beside");
  layout.classList.toggle("np-above", mode !== "beside");
  layout.classList.toggle("np-inline", mode === "inline");
  layout.classList.toggle("np-dock-closed", !open);
  showToggle(open);
  const w = Math.floor(pic.w), h = Math.floor(pic.h);
  layout.style.setProperty("--pic-w", `${w}px`);
  layout.style.setProperty("--pic-h", `${h}px`);
  const key = `${mode} ${open} ${w} ${h}`;
  if (key !== state.fitted || changed) {
    state.fitted = key;
    window.dispatchEvent(new Event("resize")); // the lab redraws at its picture's new size
  }
}

function wanted() {
  return document.documentElement.classList.contains("embed") || NARROW.matches;
}

/** Put the page in the compact layout when it is an embed or a narrow window. */
export function initLayout() {
  if (wanted()) apply(); else markEmptyPanels();
  NARROW.addEventListener("change", () => {
    if (wanted()) apply(); else restore();
    window.dispatchEvent(new Event("resize")); // the labs redraw at their new sizes
  });
  document.addEventListener("np:lab-drawn", markEmptyDock);
  window.addEventListener("resize", () => fit());
}

/** A lab in parts showed another part: arrange that part's picture, strip and panels. */
export function relayout() {
  if (!state) { markEmptyPanels(); return; }
  restore();
  apply();
  window.dispatchEvent(new Event("resize"));
}
