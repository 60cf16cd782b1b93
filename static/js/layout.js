// The compact layout every lab gets in a slide's iframe and on a phone: the lab's main picture
// first and as large as the frame allows, the transport strip beside it, the controls in what
// is left. shell.js applies it; static/css/layout.css sizes it.
//
// THE CONVENTION (what a lab template marks; nothing else is needed):
//   data-main-picture     the lab's main picture: ONE element, a <canvas> or a box holding
//                         one (its drawing code must size to the element's client size and
//                         redraw on window resize). The value is the picture's aspect ratio
//                         width/height, default 1: data-main-picture="1.25".
//   data-bar              what must stay next to the picture: play / step / reset, counters,
//                         the verdict banner. Any number of elements, kept in page order.
//   data-dock-first       panels the controls column shows first (the step's arithmetic, the
//                         network beside the output); any number, in page order.
// Everything else in <main> (the toolbar, the lab's other panels and controls) goes into the
// dock after them, in page order, with the page's own structure and ids; event listeners stay.
// A lab adapts its panels to the narrow dock with CSS under `html.np-compact` (see
// static/css/<lab>.css). `?hide=` still hides controls one by one; a `.panel` left with
// nothing but headings disappears (on every page), and an empty dock gives the picture the frame.
//
// When: always in an embed (html.embed, /embed/<lab>); on a full page while the window is at
// most 700 px wide (a phone; the page scrolls there, the picture at full width on top).
// Wider again, the page gets its own layout back. <html class="np-compact"> marks it.

const NARROW = window.matchMedia("(max-width: 700px)");
let state = null; // {main, layout, originals, places} while the compact layout is on

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

/** Nothing but headings and hidden controls in `el` (it holds at least one control). */
function showsNothing(el) {
  if (!el.querySelector("[data-control]")) return false;
  return [...el.children].every((c) => c.hidden || c.matches(QUIET) ||
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
  state.layout.classList.toggle("np-dock-empty", !dockHasContent(state.dock));
}

function apply() {
  const main = document.querySelector("main");
  const stage = main?.querySelector("[data-main-picture]");
  if (!stage || state) return;
  const bars = [...main.querySelectorAll("[data-bar]")].filter((el) => !stage.contains(el));
  const firsts = [...main.querySelectorAll("[data-dock-first]")];
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
  const aspect = parseFloat(stage.dataset.mainPicture);
  if (aspect > 0) layout.style.setProperty("--stage-aspect", String(aspect));
  stageBox.append(stage); // always shown: ?hide= of its panel hides the panel's other parts
  bar.append(...bars);
  dock.append(...firsts, ...originals);
  if (document.documentElement.classList.contains("embed")) {
    // A slide may want the picture alone: the dock folds away and comes back.
    const toggle = box("np-dock-toggle", "button");
    toggle.type = "button";
    toggle.setAttribute("aria-controls", "np-dock");
    const show = (open) => {
      layout.classList.toggle("np-dock-closed", !open);
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "⚙ ▾" : "⚙ ▸";
      toggle.title = open ? "Fold the controls away" : "Show the controls";
      toggle.setAttribute("aria-label", open ? "Hide the controls" : "Show the controls");
      window.dispatchEvent(new Event("resize")); // the picture may take the room
    };
    toggle.addEventListener("click", () => show(layout.classList.contains("np-dock-closed")));
    show(true);
    bar.append(toggle);
  }
  side.append(bar, dock);
  layout.append(stageBox, side);
  main.append(layout);
  document.documentElement.classList.add("np-compact");
  state = { main, layout, dock, originals, places };
  markEmptyPanels();
  markEmptyDock();
}

function restore() {
  if (!state) return;
  for (const [el, mark] of state.places) mark.replaceWith(el);
  state.main.replaceChildren(...state.originals);
  document.documentElement.classList.remove("np-compact");
  state = null;
  markEmptyPanels();
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
}
