// The architecture builder: the layers text ("conv8k3p1,relu,maxpool2,...") as rows of blocks
// a student edits (a convolution or dense layer with its activation, a pooling layer), each
// with its output shape, its parameters, what a dense layer doing its job would need, and
// the gradient norm of the last mini-batch. Any change sends the new text; the server's
// config (or its 422 naming the layer) answers.

const ACT = /^(linear|sigmoid|tanh|relu|leaky_relu|elu|softplus|gelu|sine)$/;
const FILTERS = [1, 2, 3, 4, 6, 8, 12, 16];
const UNITS = [4, 8, 16, 32, 64, 128];
const fmt = (n) => Number(n).toLocaleString("en-US");

/** Blocks from the layers text: conv/dense take the activation that follows them. */
export function blocks(text) {
  const tokens = text.split(",").map((t) => t.trim()).filter(Boolean);
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    let m;
    if ((m = t.match(/^conv(\d+)(?:k(\d+))?(?:p(\d+))?(?:s(\d+))?$/))) {
      const paired = Boolean(next && ACT.test(next));
      out.push({ type: "conv", filters: +m[1], kernel: +(m[2] || 3), padding: +(m[3] || 0), stride: +(m[4] || 1),
        act: paired ? next : "linear", tokens: paired ? 2 : 1 });
      if (paired) i += 1;
    } else if ((m = t.match(/^(max|avg)pool(\d+)(?:s(\d+))?$/))) {
      out.push({ type: "pool", kind: m[1], size: +m[2], stride: m[3] ? +m[3] : null, tokens: 1 });
    } else if ((m = t.match(/^dense(\d+)$/))) {
      const paired = Boolean(next && ACT.test(next));
      out.push({ type: "dense", units: +m[1], act: paired ? next : "linear", tokens: paired ? 2 : 1 });
      if (paired) i += 1;
    } else {
      out.push({ type: "other", token: t, tokens: 1 });
    }
  }
  return out;
}

/** The layers text of a list of blocks. */
export function text(list) {
  const tokens = [];
  for (const b of list) {
    if (b.type === "conv") {
      tokens.push(`conv${b.filters}k${b.kernel}${b.padding ? `p${b.padding}` : ""}${b.stride !== 1 ? `s${b.stride}` : ""}`);
      if (b.act !== "linear") tokens.push(b.act);
    } else if (b.type === "pool") {
      tokens.push(`${b.kind}pool${b.size}${b.stride && b.stride !== b.size ? `s${b.stride}` : ""}`);
    } else if (b.type === "dense") {
      tokens.push(`dense${b.units}`);
      if (b.act !== "linear") tokens.push(b.act);
    } else tokens.push(b.token);
  }
  return tokens.join(",");
}

function select(name, options, value, label) {
  const s = document.createElement("select");
  s.dataset.key = name;
  s.setAttribute("aria-label", label);
  const list = options.some(([v]) => String(v) === String(value)) ? options : [...options, [value, String(value)]];
  for (const [v, t] of list) s.add(new Option(t, v, false, String(v) === String(value)));
  return s;
}

export class ArchBuilder {
  constructor(root, { activations, onChange, addButtons, budget }) {
    this.root = root;
    this.activations = [...activations.filter((a) => a.name !== "linear"), { name: "linear", label: "none" }];
    this.onChange = onChange;
    this.budget = budget;
    this.list = [];
    this.key = "";
    this.norms = new Map(); // layer name → element showing ‖∇‖
    root.addEventListener("change", (ev) => {
      const li = ev.target.closest("li[data-i]");
      const key = ev.target.dataset.key;
      if (!li || !key) return;
      const b = this.list[+li.dataset.i];
      b[key] = ["act", "kind"].includes(key) ? ev.target.value : Number(ev.target.value);
      this.onChange(text(this.list));
    });
    root.addEventListener("click", (ev) => {
      const li = ev.target.closest("li[data-i]");
      if (!li || !ev.target.closest("[data-remove]")) return;
      this.list.splice(+li.dataset.i, 1);
      this.onChange(text(this.list));
    });
    for (const btn of addButtons) btn.addEventListener("click", () => this.add(btn.dataset.add));
  }

  add(kind) {
    const list = [...this.list];
    // Convolutions and pooling go after the last map layer, dense layers at the end.
    let at = list.length;
    if (kind !== "dense") {
      const firstDense = list.findIndex((b) => b.type === "dense");
      if (firstDense >= 0) at = firstDense;
    }
    const block = kind === "conv" ? { type: "conv", filters: 8, kernel: 3, padding: 1, stride: 1, act: "relu" }
      : kind === "pool" ? { type: "pool", kind: "max", size: 2, stride: null }
        : { type: "dense", units: 32, act: "relu" };
    list.splice(at, 0, block);
    this.onChange(text(list));
  }

  /** Show the server's config: its layers text and every layer's shape and parameters. */
  show(config) {
    const r = config.resolved;
    const key = JSON.stringify([config.layers, r.layers]);
    if (key === this.key) return;
    this.key = key;
    this.list = blocks(config.layers);
    this.norms.clear();
    // Summary rows in step with the blocks: build() adds a flatten before dense layers.
    const rows = r.layers.filter((row) => row.name !== "output");
    let k = 0;
    const rowsOf = (b) => {
      const mine = [];
      for (let t = 0; t < b.tokens; t++) {
        while (k < rows.length && rows[k].kind === "flatten" && b.token !== "flatten") k += 1;
        if (k < rows.length) mine.push(rows[k++]);
      }
      return mine;
    };
    const items = this.list.map((b, i) => this.row(b, i, rowsOf(b)));
    const out = r.layers.find((row) => row.name === "output");
    const li = document.createElement("li");
    li.className = "cn-layer output";
    li.innerHTML = `<span class="cn-kind">Output</span><span class="cn-desc">dense ${out.out_shape[0]} → softmax</span>`;
    li.append(this.facts(out));
    items.push(li);
    this.root.replaceChildren(...items);
    const d = r.dense_budget;
    const [C, H, W] = r.image_shape;
    this.budget.innerHTML =
      `<b>${fmt(r.parameters)}</b> parameters in all. A fully connected net with the same budget: ` +
      `${C * H * W} → ${d.hidden} → ${r.classes.length} (${fmt(d.parameters)} parameters).`;
  }

  row(b, i, rows) {
    const li = document.createElement("li");
    li.className = `cn-layer ${b.type}`;
    li.dataset.i = i;
    const kind = document.createElement("span");
    kind.className = "cn-kind";
    const acts = this.activations.map((a) => [a.name, a.label]);
    const controls = document.createElement("span");
    controls.className = "cn-ctl";
    if (b.type === "conv") {
      kind.textContent = "Conv";
      controls.append(
        select("filters", FILTERS.map((v) => [v, `${v} filter${v > 1 ? "s" : ""}`]), b.filters, "Filters"),
        select("kernel", [[3, "3×3"], [5, "5×5"]], b.kernel, "Kernel size"),
        select("padding", [[0, "pad 0"], [1, "pad 1"], [2, "pad 2"]], b.padding, "Padding"),
        select("stride", [[1, "stride 1"], [2, "stride 2"]], b.stride, "Stride"),
        select("act", acts, b.act, "Activation"));
    } else if (b.type === "pool") {
      kind.textContent = "Pool";
      controls.append(select("kind", [["max", "max"], ["avg", "average"]], b.kind, "Pooling"),
        select("size", [[2, "2×2"], [3, "3×3"]], b.size, "Pooling size"));
    } else if (b.type === "dense") {
      kind.textContent = "Dense";
      controls.append(select("units", UNITS.map((v) => [v, `${v} units`]), b.units, "Units"),
        select("act", acts, b.act, "Activation"));
    } else {
      kind.textContent = b.token;
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "cn-remove";
    remove.dataset.remove = "1";
    remove.setAttribute("aria-label", `Remove layer ${i + 1}`);
    remove.title = "Remove this layer";
    remove.textContent = "×";
    const main = rows.find((r) => r.parameters > 0) || rows[rows.length - 1];
    li.append(kind, controls, remove);
    if (main) li.append(this.facts(main, rows[rows.length - 1]));
    return li;
  }

  /** "→ 8×8×8 · 80 params · as dense 33,280 · ∇ 0.57" for a layer's summary row. */
  facts(row, last = row) {
    const span = document.createElement("span");
    span.className = "cn-facts";
    const shape = last.out_shape.join("×");
    let html = `→ ${shape}`;
    if (row.parameters) html += ` · <b>${fmt(row.parameters)}</b> params`;
    if (row.dense_equivalent) html += ` <span class="muted" title="What a dense layer mapping the same input to the same output would need">(dense: ${fmt(row.dense_equivalent)})</span>`;
    span.innerHTML = html;
    if (row.parameters) {
      const g = document.createElement("span");
      g.className = "cn-grad muted";
      g.title = "Gradient norm ‖∂L/∂θ‖ of this layer, last mini-batch";
      span.append(" ", g);
      this.norms.set(row.name, g);
    }
    return span;
  }

  /** Per-layer gradient norms of the last mini-batch. */
  showNorms(norms) {
    for (const [name, el] of this.norms) {
      const v = norms?.[name];
      const none = v === undefined || v === null;
      el.textContent = none ? "" : `‖∇‖ ${v === 0 ? "0" : v < 0.01 ? v.toExponential(1) : v.toFixed(2)}`;
      el.classList.toggle("cn-dead", v === 0);
      el.title = v === 0 ? "No gradient reaches this layer: its units are all off (dead ReLUs), it cannot learn"
        : "Gradient norm ‖∂L/∂θ‖ of this layer, last mini-batch";
    }
  }
}
