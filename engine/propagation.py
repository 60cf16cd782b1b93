"""Signal propagation at initialization: how the variance of the activations (forward) and of
the gradients (backward) changes from layer to layer, for each weight initializer.

A batch x (n, w) of standard-normal inputs goes through `depth` hidden layers of width w
(engine.deepnet without its output layer: dense → [BN] → f, repeated, trained-mode BN). At the
top a fixed standard-normal array g (n, w) plays the gradient arriving from above: the loss is
L = Σ g ⊙ a_L, so dL/da_L = g. For every hidden layer i the result holds

    activation_var[i] = Var(a_i)          over the batch and the units (a_i = f(BN(z_i)))
    grad_var[i]       = Var(dL/da_i)

Why initializers matter: for a dense layer with zero-mean weights of variance s²,
    forward   Var(z_i) = n_in · s² · E[a_{i−1}²],     backward   Var(dL/da_{i−1}) = n_out · s² · Var(dL/dz_i),
so every layer multiplies both signals by about n·s² (times what f does). Xavier/Glorot picks
s² = 2/(n_in + n_out), a factor 1 for square layers (linear and tanh keep their variance); He
picks s² = 2/n_in, a factor 2 that a ReLU's zeroed half brings back to 1; small uniform ±a has
s² = a²/3, so a linear or tanh network shrinks by n·a²/3 per layer: geometrically.
`geometric_rate` fits that factor (the slope of log₁₀ Var over the layers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import deepnet

Array = np.ndarray


@dataclass(frozen=True)
class Propagation:
    """One initializer's at-init statistics, hidden layers 1 … depth."""

    init: str
    activation_var: Array  # (depth,) Var(a_i)
    grad_var: Array  # (depth,) Var(dL/da_i)
    activation_rate: float | None  # fitted factor per layer of activation_var (None: not fittable)
    grad_rate: float | None  # the same for grad_var, read from the output side down
    weight_var: float  # s², the variance of the drawn weights (mean over the layers)


def geometric_rate(values: Array) -> float | None:
    """Factor r per step of a geometric sequence v_i ≈ c · rⁱ, fitted by least squares on log₁₀ v
    over the finite positive entries (None with fewer than two, e.g. all-zero variances)."""
    v = np.asarray(values, dtype=np.float64)
    i = np.flatnonzero(np.isfinite(v) & (v > 0))
    if len(i) < 2:
        return None
    slope = np.polyfit(i.astype(np.float64), np.log10(v[i]), 1)[0]
    return float(10.0 ** slope)


def propagate(depth: int, width: int, activation: str, init: str, batchnorm: bool = False,
              n: int = 256, seed: int = 0) -> Propagation:
    """Push one batch forward and one gradient back through a freshly initialized network.

    The inputs x and the top gradient g come from `seed` alone, the weights from a stream of
    their own, so every initializer sees the same batch."""
    data_rng = np.random.default_rng([seed, 0])
    x = data_rng.standard_normal((n, width))
    g = data_rng.standard_normal((n, width))
    spec = deepnet.NetSpec(activation, init, residual=False, batchnorm=batchnorm)
    model = deepnet.build(width, None, depth, width, spec, np.random.default_rng([seed, 1]))
    with np.errstate(all="ignore"):  # an exploding initializer reports inf, not warnings
        model.forward(x, train=True)
        model.backward(g)
        trace = model.trace()
        acts = [trace[name] for name, _ in deepnet.activation_layers(model)]
        a_var = np.array([t.output.var() for t in acts])
        g_var = np.array([t.grad.var() for t in acts])
    s2 = float(np.mean([layer.params["W"].var() for _, layer in deepnet.dense_layers(model)]))
    return Propagation(init, a_var, g_var, geometric_rate(a_var), geometric_rate(g_var[::-1]), s2)


def propagate_all(depth: int, width: int, activation: str, inits: list[str], batchnorm: bool = False,
                  n: int = 256, seed: int = 0) -> list[Propagation]:
    """`propagate` for several initializers on the same batch."""
    return [propagate(depth, width, activation, init, batchnorm, n, seed) for init in inits]
