// The lab's form controls (rendered by the server from the engine's registries) and the
// page's parameters: read a changed control, and show the parameters the server confirmed.

function readControl(input) {
  const type = input.dataset.type;
  if (type === "bool") return input.checked;
  if (type === "int") return parseInt(input.value, 10);
  if (type === "float") return Number(input.value);
  return input.value;
}

/** Call onChange(name, value) when a control with data-param changes (sliders: on release). */
export function bindControls(form, onChange) {
  form.addEventListener("submit", (ev) => ev.preventDefault());
  form.addEventListener("input", (ev) => {
    const input = ev.target;
    if (input.type === "range") {
      const out = form.querySelector(`output[data-for="${input.dataset.param}"]`);
      if (out) out.textContent = input.value;
    }
  });
  form.addEventListener("change", (ev) => {
    const input = ev.target;
    const name = input.dataset?.param;
    if (name) onChange(name, readControl(input));
  });
}

function ensureOption(select, value, label) {
  const v = String(value);
  if (![...select.options].some((o) => o.value === v)) {
    const o = new Option(label ?? v, v);
    select.add(o);
  }
  select.value = v;
}

/**
 * Show parameters `p` (and what the server resolved: problem, loss) in the controls.
 * resolved: {problem, loss, output_activation} from the config message.
 */
export function showControls(form, p, resolved) {
  const problem = resolved?.problem ?? "classification";
  for (const input of form.querySelectorAll("[data-param]")) {
    const name = input.dataset.param;
    let value = p[name];
    if (name === "problem") value = problem;
    if (name === "loss") value = resolved?.loss ?? p.loss ?? "squared";
    if (input.type === "radio") {
      input.checked = !p.points && input.value === String(value);
    } else if (input.type === "checkbox") {
      input.checked = !!value;
    } else if (input.tagName === "SELECT") {
      if (value !== null && value !== undefined) ensureOption(input, value);
    } else if (value !== null && value !== undefined) {
      input.value = value;
      const out = form.querySelector(`output[data-for="${name}"]`);
      if (out) out.textContent = value;
    }
  }
  // Datasets of the current problem type only; losses that fit it only.
  for (const chip of form.querySelectorAll(".datasets .chip[data-problem]")) {
    chip.hidden = chip.dataset.problem !== problem;
  }
  const custom = form.querySelector("#mlp-custom-chip");
  if (custom) {
    custom.hidden = !p.points;
    custom.querySelector("input").checked = !!p.points;
    const n = p.points ? p.points.length + (p.added?.length || 0) : 0;
    custom.lastChild.textContent = p.points ? ` Your points (${n})` : " Your points";
  }
  const lossOk = { classification: ["squared", "bce"], regression: ["squared"], multiclass: ["softmax_ce"] };
  const loss = form.querySelector('[data-param="loss"]');
  for (const o of loss.options) o.disabled = !lossOk[problem].includes(o.value);
  form.querySelector("#mlp-classes-field").hidden = problem !== "multiclass";
  form.querySelector("#mlp-layer-count").textContent = p.hidden.length;
  form.querySelector("#mlp-layer-word").textContent = p.hidden.length === 1 ? "hidden layer" : "hidden layers";
  showHyper(form, p.optimizer_params || {});
}

/** Fill the optimizer's hyperparameter fields from the run's values (defaults elsewhere). */
export function showHyper(form, values) {
  for (const input of form.querySelectorAll("[data-hyper]")) {
    const name = input.dataset.hyper;
    const v = name in values ? values[name] : JSON.parse(input.dataset.default);
    if (input.type === "checkbox") input.checked = !!v;
    else input.value = v;
  }
}

/** The hyperparameters that differ from the optimizer's defaults. */
export function readHyper(form) {
  const out = {};
  for (const input of form.querySelectorAll("[data-hyper]")) {
    const def = JSON.parse(input.dataset.default);
    const v = input.type === "checkbox" ? input.checked : Number(input.value);
    if (input.type !== "checkbox" && (input.value === "" || !Number.isFinite(v))) continue;
    if (v !== def) out[input.dataset.hyper] = v;
  }
  return out;
}
