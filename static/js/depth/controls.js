// The depth lab's form controls, found by parameter name wherever they are on the page: each
// view owns its own names (train: depth, width…; propagation: prop_*; explorer: fn…), and a
// compact layout (embeds, phones) may move a view's panels out of its section.

/** The controls ([data-param]) of these parameter names. */
export function controlsFor(names) {
  return [...document.querySelectorAll("[data-param]")].filter((el) => names.includes(el.dataset.param));
}

/** A control's value, typed by its data-type (int, float, bool). */
export function readControl(el) {
  const type = el.dataset.type;
  if (el.type === "checkbox" || type === "bool") return el.checked;
  if (type === "int") return parseInt(el.value, 10);
  if (type === "float") return Number(el.value);
  return el.value;
}

/** Show `value` in a control (a select gains an option for a value it lacks, e.g. from a link). */
export function showValue(el, value) {
  if (value === undefined || value === null) return;
  if (el.type === "checkbox") el.checked = !!value;
  else {
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === String(value))) {
      el.add(new Option(String(value), String(value)));
    }
    el.value = String(value);
  }
  const out = document.querySelector(`output[data-for="${el.dataset.param}"]`);
  if (out) out.textContent = String(value);
}

/** onChange(name, value) when a control of these names changes (a slider: on release; its
 *  <output> follows while it moves). */
export function bindControls(names, onChange) {
  document.addEventListener("input", (ev) => {
    const el = ev.target;
    if (el.type !== "range" || !names.includes(el.dataset?.param)) return;
    const out = document.querySelector(`output[data-for="${el.dataset.param}"]`);
    if (out) out.textContent = el.value;
  });
  document.addEventListener("change", (ev) => {
    const el = ev.target;
    if (names.includes(el.dataset?.param)) onChange(el.dataset.param, readControl(el));
  });
}
