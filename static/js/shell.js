// What every lab page shares: the lab's controller and presenter keyboard shortcuts.
//
// A lab's module calls registerLab({...}) with any of:
//   toggle() play/pause, step(), reset(), faster(), slower(),
//   state() → the lab's full parameters (URL query names; what a link or export reproduces),
//   exportState() → JSON-able object (config + weights/history), importState(obj),
//   canvases() → the canvases a PNG export should include.
// Keys: space play/pause, → step, r reset, f fullscreen, + / − speed.

let lab = null;

export function registerLab(controller) {
  lab = controller;
  document.dispatchEvent(new CustomEvent("np:lab-ready", { detail: controller }));
}

export function currentLab() {
  return lab;
}

/** Replace the page's query with `params` (lists joined by commas), keeping view options. */
export function syncURL(params) {
  const url = new URL(location.href);
  const keep = ["embed", "hide", "present", "autoplay"];
  const next = new URLSearchParams();
  for (const k of keep) if (url.searchParams.has(k)) next.set(k, url.searchParams.get(k));
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined) continue;
    next.set(k, Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  history.replaceState(null, "", `${url.pathname}?${next}`);
}

function typing(target) {
  return target && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
}

document.addEventListener("keydown", (ev) => {
  if (!lab || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  const actions = {
    " ": lab.toggle, ArrowRight: lab.step, r: lab.reset, "+": lab.faster, "=": lab.faster,
    "-": lab.slower,
    f: () => (document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen()),
  };
  const act = actions[ev.key];
  if (act) {
    ev.preventDefault();
    act();
  }
});
