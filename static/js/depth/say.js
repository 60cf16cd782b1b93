// What the student is seeing, in plain words, from the numbers of a frame: which network
// learns and which still guesses, how the gradient changes on its way to the input (vanishing,
// exploding, or carried back by the skip connections), and how the networks compare.

import { finite, fmt } from "./plot.js";

function join(names) {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function loss(v) {
  return finite(v) ? (v >= 100 ? fmt(v) : v.toFixed(2)) : "–";
}

/** The headline: "B learns; A is still guessing." (what the preset expectations look for). */
export function headline(step, nets) {
  if (!step) {
    return nets.length > 1
      ? "Step 0: the networks start from the same weights and will see the same batches. Press play."
      : "Step 0: press play.";
  }
  const by = (v) => nets.filter((n) => n.verdict === v).map((n) => n.name);
  const learning = by("learning"), guessing = by("guessing"), diverged = by("diverged");
  const parts = [];
  if (learning.length) parts.push(`${join(learning)} learn${learning.length === 1 ? "s" : ""}`);
  if (guessing.length) parts.push(`${join(guessing)} ${guessing.length === 1 ? "is" : "are"} still guessing`);
  if (diverged.length) parts.push(`${join(diverged)} diverged`);
  return `${parts.join("; ")}.`;
}

/** One sentence on how a network's gradient fares from the output layer back to the first. */
export function gradientSentence(n) {
  const g = n.grads || [];
  const first = g[0], last = g[g.length - 1];
  if (n.verdict === "diverged") {
    return `${n.name} diverged at step ${n.divergedAt}: its gradients grew until the numbers overflowed, ` +
      "and its loss is no longer a number. Its bars show its last finite step.";
  }
  if (g.length && g.every((v) => v === 0)) {
    const dead = (n.dead || []).findIndex((d) => d >= 1);
    return dead >= 0
      ? `${n.name}: every gradient is exactly 0. All ReLUs of layer ${dead + 1} are dead (they output 0 for ` +
        "every input), so nothing flows back: the network can no longer learn."
      : `${n.name}: every gradient is exactly 0: nothing flows back, the weights never change.`;
  }
  if (!finite(first) || !finite(last) || last <= 0) return `${n.name}: no gradient reaches its layers.`;
  if (first === 0) return `${n.name}: the first layer's gradient is exactly 0: its weights never change.`;
  const ratio = first / last;
  const per = ratio ** (1 / Math.max(1, g.length - 1));
  const big = Math.max(...g.filter(finite));
  if (ratio < 1e-3) {
    return `${n.name}: the gradient shrinks about ×${fmt(per)} per layer on its way back; at the first layer ` +
      `it is ${fmt(ratio)} of the output layer's. Vanishing: the layers near the input barely move.`;
  }
  if (ratio > 1e3) {
    return `${n.name}: the gradient grows about ×${fmt(per)} per layer on its way back, to ${fmt(ratio)} times ` +
      "the output layer's at the first layer. Exploding: the first layers take huge steps.";
  }
  const carried = n.residual ? ": the skip connections carry it back"
    : n.batchnorm ? ": BatchNorm keeps every layer's input in the activation's steep range" : "";
  const huge = big > 100 ? ` Its gradients are huge (up to ${fmt(big)}): every step throws the weights far.` : "";
  return `${n.name}: the gradient reaches the first layer at ${fmt(ratio)} of the output layer's size${carried}.${huge}`;
}

/** One sentence on a network's loss against the loss of guessing. */
export function lossSentence(n, chance) {
  if (n.verdict === "diverged") return null;
  const test = finite(n.testAccuracy) ? ` ${Math.round(100 * n.testAccuracy)} % of the test set right.` : "";
  if (n.verdict === "guessing") {
    return `${n.name}'s loss ${loss(n.loss)} is still that of guessing (${loss(chance)}).${test}`;
  }
  return `${n.name}'s loss has fallen to ${loss(n.loss)} (guessing: ${loss(chance)}).${test}`;
}

/** Comparisons of the first two networks: gradients at the first layer, and the losses. */
export function comparisons(nets) {
  const out = [];
  const [a, b] = nets;
  if (!a || !b) return out;
  const ga = a.grads?.[0], gb = b.grads?.[0];
  if (finite(ga) && finite(gb) && ga > 0 && gb > 0 && a.verdict !== "diverged" && b.verdict !== "diverged") {
    const r = gb / ga;
    if (r >= 100) out.push(`At the first layer ${b.name}'s gradient is ${fmt(r)} times ${a.name}'s.`);
    else if (r <= 0.01) out.push(`At the first layer ${a.name}'s gradient is ${fmt(1 / r)} times ${b.name}'s.`);
  }
  if (finite(a.loss) && finite(b.loss) && Math.abs(a.loss - b.loss) > 0.02 && a.verdict !== "diverged"
      && b.verdict !== "diverged") {
    const [lo, hi] = a.loss < b.loss ? [a, b] : [b, a];
    out.push(`${lo.name}'s loss (${loss(lo.loss)}) is below ${hi.name}'s (${loss(hi.loss)}).`);
  }
  return out;
}
