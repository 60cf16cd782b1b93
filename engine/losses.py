"""Losses, each computed from the output layer's pre-activation z with its gradient dL/dz.

A loss is paired with the output activation it expects:
- ``squared``: L = mean over the batch of Σ_k ½(a_k − t_k)², a = f(z) for any output f
  (the TensorFlow Playground's loss; with tanh output and targets ±1).
- ``bce``: binary cross-entropy with a sigmoid output, from logits so it never takes log 0:
  L = mean(max(z, 0) − z·t + log(1 + e^−|z|)), dL/dz = (σ(z) − t) / N, targets in {0, 1}.
- ``softmax_ce``: softmax over K logits and cross-entropy with integer class targets:
  L = mean(logsumexp(z) − z_t), dL/dz = (softmax(z) − onehot(t)) / N.

All gradients are of the *mean* over the batch (N rows), matching TF Playground and torch; an
empty batch (N = 0) has no mean: its loss is NaN (as np.mean and torch say) and its gradient empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine import activations

Array = np.ndarray


def softmax(z: Array) -> Array:
    """Row-wise softmax of z (N, K), shifted by the row max for stability."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mean(total: float, n: int) -> float:
    """total / n, NaN for no rows (a Python float division by 0 would raise)."""
    return total / n if n else float("nan")


def _squared(z: Array, t: Array, act: activations.Activation, a: Array | None = None
             ) -> tuple[float, Array, Array]:
    if a is None:
        a = act.output(z)
    diff = a - t
    n = z.shape[0]
    loss = _mean(0.5 * float(np.vdot(diff, diff)), n)
    return loss, diff * act.der(z, a) / n, a


def _bce(z: Array, t: Array, act: activations.Activation, a: Array | None = None
         ) -> tuple[float, Array, Array]:
    n = z.shape[0]
    loss = _mean(float(np.sum(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z))))), n)
    if a is None:
        a = activations.sigmoid(z)
    return loss, (a - t) / n, a


def _softmax_ce(z: Array, t: Array, act: activations.Activation, a: Array | None = None
                ) -> tuple[float, Array, Array]:
    n = z.shape[0]
    idx = t.astype(np.int64).reshape(-1)
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.sum(np.exp(z - zmax), axis=1))
    loss = _mean(float(np.sum(lse - z[np.arange(n), idx])), n)
    p = softmax(z) if a is None else a
    grad = p.copy()
    grad[np.arange(n), idx] -= 1.0
    return loss, grad / n, p


@dataclass(frozen=True)
class Loss:
    """`value_and_grad(z, t, output_activation, a=None)` → (mean loss, dL/dz, output a).

    `a`, when given, is the output already computed from z by the forward pass.
    """

    name: str
    label: str
    output_activations: tuple[str, ...]  # which output activations this loss accepts
    value_and_grad: Callable[..., tuple[float, Array, Array]]


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in [
        Loss("squared", "Squared error ½(a − t)²", tuple(activations.ACTIVATIONS), _squared),
        Loss("bce", "Binary cross-entropy (sigmoid)", ("sigmoid",), _bce),
        Loss("softmax_ce", "Softmax cross-entropy", ("softmax",), _softmax_ce),
    ]
}


def get(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


def output_values(z: Array, output_activation: str) -> Array:
    """The network's output a for output pre-activation z (softmax handled row-wise)."""
    if output_activation == "softmax":
        return softmax(z)
    return activations.get(output_activation).output(z)
