// The six steps of the walk-through as text: every number with the product that made it.

import { factor, num } from "./num.js";

const line = (html, cls = "") => `<span class="line ${cls}">${html}</span>`;
const ACT = { sigmoid: "σ", tanh: "tanh", relu: "relu", linear: "" };
const prod = (fs) => fs.map((f) => f.symbol).join(" · ");
const prodVals = (fs) => fs.map((f) => factor(f.value)).join(" · ");

function initialize(t) {
  const net = t.initialize.network;
  const rows = net.weights.map((w) => `<tr><th>${w.name}</th><td>${w.from} → ${w.to}</td><td id="bp-w-${w.name}">${num(w.value)}</td></tr>`);
  const brows = net.biases.map((b) => `<tr><th>${b.name}</th><td>bias of ${b.neuron}</td><td>${num(b.value)}</td></tr>`);
  return [
    line(`inputs: ${t.initialize.inputs.map((f) => `${f.symbol} = ${num(f.value)}`).join(", ")}`),
    line(`target${t.initialize.targets.length > 1 ? "s" : ""}: ${t.initialize.targets.map((v) => num(v)).join(", ")}` +
      `, learning rate η = ${num(t.initialize.lr)}`),
    line(`network ${net.sizes.join("-")}, activation ${net.activation}, output ${net.output_activation}, ` +
      `${net.biases.length ? "with" : "no"} biases`),
    `<table class="nums">${rows.join("")}${brows.join("")}</table>`,
  ].join("");
}

function forward(t) {
  return t.forward.map((n) => {
    const sym = n.terms.map(([a, w]) => `${a.symbol}·${w.symbol}`).concat(n.bias ? [n.bias.symbol] : []).join(" + ");
    const val = n.terms.map(([a, w]) => `${factor(a.value)}·${factor(w.value)}`).concat(n.bias ? [factor(n.bias.value)] : []).join(" + ");
    if (n.activation === "linear") return line(`${n.name} = ${sym} = ${val} = <b id="bp-f-${n.name}">${num(n.a)}</b>`);
    return line(`z_${n.name} = ${sym} = ${val} = ${num(n.z)}`) +
      line(`${n.name} = ${ACT[n.activation]}(z_${n.name}) = ${ACT[n.activation]}(${num(n.z)}) = <b id="bp-f-${n.name}">${num(n.a)}</b>`, "sub");
  }).join("");
}

function error(t) {
  const e = t.error;
  const outs = e.outputs;
  const one = outs.length === 1;
  const D = (o) => (one ? "Δ" : `Δ_${o.name}`);
  const out = [];
  if (e.loss === "squared") {
    for (const o of outs) out.push(line(`${D(o)} = ∂E/∂${o.name} = ${o.name} − t = ${num(o.output)} − ${factor(o.target)} = <b id="bp-delta">${num(o.delta)}</b>`));
    const sq = outs.map((o) => `${factor(o.delta)}²`).join(" + ");
    out.push(line(`E = ½ ${one ? "(" + outs[0].name + " − t)²" : "Σ (o − t)²"} = ½·${one ? sq : "(" + sq + ")"} = <b id="bp-E-step">${num(e.E)}</b>`));
    for (const o of outs) if (o.act_der) {
      out.push(line(`δ_${o.name} = ∂E/∂z_${o.name} = ${D(o)} · ${o.act_der.symbol} = ${factor(o.delta)} · ${factor(o.act_der.value)} = ${num(o.dE_dz)}`, "sub"));
    }
  } else {
    for (const o of outs) out.push(line(`E = −[t·log ${o.name} + (1 − t)·log(1 − ${o.name})] with ${o.name} = ${num(o.output)}, t = ${num(o.target)}`));
    out.push(line(`E = <b id="bp-E-step">${num(e.E)}</b>`));
    for (const o of outs) out.push(line(`${D(o)} = ∂E/∂z_${o.name} = ${o.name} − t = ${num(o.output)} − ${factor(o.target)} = <b id="bp-delta">${num(o.delta)}</b>`));
  }
  return out.join("");
}

function backward(t) {
  const out = [];
  if (t.backward.hidden.length) out.push("<h3>Error signals of the hidden neurons (δ = ∂E/∂z)</h3>");
  for (const h of t.backward.hidden) {
    const s = h.downstream.map(([w, d]) => `${w.symbol}·${d.symbol}`).join(" + ");
    const v = h.downstream.map(([w, d]) => `${factor(w.value)}·${factor(d.value)}`).join(" + ");
    const ds = h.act_der ? ` · ${h.act_der.symbol}` : "", dv = h.act_der ? ` · ${factor(h.act_der.value)}` : "";
    const wrap = h.act_der || h.downstream.length > 1;
    out.push(line(`δ_${h.name} = ${wrap ? `(${s})` : s}${ds} = ${wrap ? `(${v})` : v}${dv} = ${num(h.delta)}`));
  }
  out.push("<h3>Gradients, by the chain rule</h3>");
  for (const p of t.backward.params) {
    const lhs = `∂E/∂${p.name}`;
    let sym, val;
    if (p.paths) {
      sym = p.paths.map(prod).join(" + ");
      val = p.paths.map(prodVals).join(" + ");
    } else {
      sym = p.source ? `${p.delta.symbol} · ${p.source.symbol}` : p.delta.symbol;
      val = p.source ? `${factor(p.delta.value)} · ${factor(p.source.value)}` : factor(p.delta.value);
    }
    out.push(line(`${lhs} = ${sym} = ${val} = <b id="bp-g-${p.name}">${num(p.grad)}</b>`));
  }
  return out.join("");
}

function update(t) {
  const out = [line(`new weight = weight − η · gradient, η = ${num(t.initialize.lr)}`, "sub")];
  for (const u of t.update) {
    out.push(line(`${u.name}⁺ = ${u.name} − η·∂E/∂${u.name} = ${num(u.old)} − ${num(t.initialize.lr)}·${factor(u.grad)} = <b id="bp-u-${u.name}">${num(u.new)}</b>`));
  }
  return out.join("");
}

function repeat(t, frame) {
  const L = frame.losses;
  const before = L.length > 1 ? L[L.length - 2] : t.error.E;
  const after = L[L.length - 1];
  const change = before ? ((after - before) / Math.abs(before)) * 100 : 0;
  return [
    line(`E before the update = ${num(before)}`),
    line(`E after the update  = <b id="bp-E-after">${num(after)}</b> (${change < 0 ? "−" : change > 0 ? "+" : ""}${Math.abs(change).toFixed(1)} %)`),
    line(frame.diverged ? "the error blew up: the learning rate is too large" :
      `iteration ${frame.iteration} done: back to step 2 with the new weights`, frame.diverged ? "danger" : "sub"),
  ].join("");
}

export const TITLES = ["Initialize", "Forward pass", "Error at the output", "Backpropagate the error", "Update the weights", "Repeat"];

/** HTML of step `k` (1…6) for the frame's trace. */
export function stepHTML(k, frame) {
  const t = frame.trace;
  return [initialize, forward, error, backward, update, repeat][k - 1](t, frame);
}
