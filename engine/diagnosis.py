"""Why an MLP stops learning, read off one forward/backward pass over the training set.

`diagnose(model, F, T, loss, lr, ...)` looks at the hidden units, the outputs, the loss
history and each layer's gradient, and says in words what it finds:

- dead units: a hidden unit whose f'(z) is 0 for every training example (a ReLU with z ≤ 0
  everywhere) receives no gradient, so no step can bring it back;
- saturated units (sigmoid, tanh): f'(z) below 1 % of its peak on ≥ 95 % of the examples;
- saturated outputs: |ŷ| > 0.99 (tanh), p < 0.01 or > 0.99 (sigmoid), max p > 0.99 (softmax);
  on the wrong side of the decision with the squared loss, f'(z) ≈ 0 passes almost no
  gradient back (with cross-entropy the gradient stays ŷ − t: confidently wrong);
- a stalled loss: the last STALL_EPOCHS + 1 epochs' training losses within 1 % of each other
  while the task is not learned (accuracy < 95 %, or a regression loss above 0.01);
- gradient norms ‖∂L/∂W_l‖ of the data loss over the whole training set, per layer: through
  layers of sigmoids they shrink toward the input (a vanishing gradient).

Shapes: F (N, n_in) features, T the targets as the loss takes them ((N, 1) or class indices (N,)).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from engine import activations, losses
from engine.mlp import MLP

Array = np.ndarray

STALL_EPOCHS = 10
LARGE_RATE = 1.0  # a learning rate from which "try a smaller one" is the first advice
SATURATING = ("sigmoid", "tanh")


@dataclass
class Diagnosis:
    units: list[int]  # hidden units per layer
    dead: list[int]  # per hidden layer
    saturated: list[int]  # per hidden layer (sigmoid and tanh only)
    saturated_outputs: float  # share of training examples whose output is saturated
    wrong_saturated: float  # … and on the wrong side (classification)
    stalled: bool
    grad_norms: list[float]  # ‖∂L/∂W_l‖ per layer, first hidden … output
    messages: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return "warning" if self.messages else "ok"


@functools.cache
def _peak(name: str) -> float:
    """The largest |f'(z)| of an activation (1 for tanh, 0.25 for sigmoid), sampled."""
    act = activations.get(name)
    z = np.linspace(-8.0, 8.0, 1601)
    return float(np.max(np.abs(act.der(z, act.output(z)))))


def diagnose(model: MLP, F: Array, T: Array, loss: str, lr: float, problem: str = "classification",
             history: list[float] | None = None, accuracy: float | None = None) -> Diagnosis:
    """What holds this run back (see the module docstring); `history` holds the training
    loss after each epoch, `accuracy` the training accuracy (None for regression)."""
    with np.errstate(all="ignore"):
        tr = model.loss_and_grads(F, T, loss)
        act = model.act
        peak = _peak(act.name)
        dead, saturated = [], []
        for z, a in zip(tr.z[:-1], tr.a[:-1], strict=True):
            d = np.abs(act.der(z, a))
            dead.append(int(np.sum(np.all(d == 0, axis=0))) if len(z) else 0)
            sat = np.mean(d < 0.01 * peak, axis=0) >= 0.95 if len(z) else np.zeros(z.shape[1], bool)
            saturated.append(int(np.sum(sat & ~np.all(d == 0, axis=0))) if act.name in SATURATING else 0)
        sat_out, wrong = _outputs(model, tr.z[-1], tr.a[-1], T, loss, problem)
        norms = [float(np.linalg.norm(g)) for g in tr.dW]
    units = [z.shape[1] for z in tr.z[:-1]]
    h = [v for v in (history or []) if v is not None and np.isfinite(v)][-(STALL_EPOCHS + 1):]
    learned = (accuracy is not None and accuracy >= 0.95) or (problem == "regression" and tr.loss < 0.01)
    stalled = (len(h) == STALL_EPOCHS + 1 and max(h) - min(h) <= 0.01 * max(np.mean(h), 1e-12)
               and not learned)
    d = Diagnosis(units, dead, saturated, sat_out, wrong, stalled, norms)
    d.messages = _say(d, act.label, loss, lr, h, accuracy, problem)
    return d


def _outputs(model: MLP, z: Array, a: Array, T: Array, loss: str, problem: str) -> tuple[float, float]:
    """(share of saturated outputs, share saturated on the wrong side)."""
    if len(z) == 0 or problem == "regression":
        return 0.0, 0.0
    if loss == "softmax_ce":
        p = losses.softmax(z)
        sat, right = p.max(axis=1) > 0.99, np.argmax(p, axis=1) == T
    elif model.output_activation == "sigmoid":
        sat, right = np.abs(2 * a[:, 0] - 1) > 0.98, (a[:, 0] > 0.5) == (T[:, 0] > 0.5)
    else:
        sat, right = np.abs(a[:, 0]) > 0.99, (a[:, 0] >= 0) == (T[:, 0] > 0)
    return float(np.mean(sat)), float(np.mean(sat & ~right))


def _say(d: Diagnosis, act: str, loss: str, lr: float, h: list[float], accuracy: float | None,
         problem: str) -> list[str]:
    """Short sentences, most telling first (a banner on a slide has little room)."""
    out = []
    if d.stalled:
        right = f", {accuracy:.0%} of the points right" if accuracy is not None else ""
        out.append(f"Training has stalled: loss {h[-1]:.3g} for {STALL_EPOCHS} epochs{right}.")
    if d.wrong_saturated >= 0.2:
        out.append(f"Saturated outputs: {d.wrong_saturated:.0%} of the points sit at ±1 on the wrong side, "
                   "where the slope ≈ 0 sends no gradient back." if loss == "squared" else
                   f"Saturated outputs: {d.wrong_saturated:.0%} of the points are wrong with p > 0.99.")
    total, dead = sum(d.units), sum(d.dead)
    if dead:
        out.append(f"{dead} of {total} {act} units {'is' if dead == 1 else 'are'} dead: 0 on every point, "
                   "so no gradient reaches them.")
    if d.stalled and sum(d.saturated):
        out.append(f"{sum(d.saturated)} of {total} {act} units are saturated.")
    if d.stalled and len(d.grad_norms) > 2 and d.grad_norms[0] < 0.01 * d.grad_norms[-1]:
        out.append(f"Layer 1 gets {d.grad_norms[0] / d.grad_norms[-1]:.1%} of the output layer's gradient: "
                   "it vanishes on the way back.")
    if out and lr >= LARGE_RATE and (d.stalled or dead or d.wrong_saturated >= 0.2):
        out.append(f"The learning rate {lr:g} is large: try one 10–100× smaller and reset.")
    return out
