"""Per-layer readings of one training step of a deep network: what the depth lab streams.

From the trace of a step (engine.nn.trace) of a network built by engine.deepnet, for its dense
layers i = 1 … L + 1 (dense1 … output) and its activation layers i = 1 … L:

    grad_norms[i]     ‖∂L/∂W_i‖ (Frobenius norm of the weight gradient; biases apart)
    update_ratios[i]  ‖ΔW_i‖ / ‖W_i‖ of the step's update (NaN when unknown or W = 0)
    quantiles[i]      5, 25, 50, 75 and 95 % quantiles of activation i's outputs a_i (N·w values)
    mean[i], var[i]   of a_i
    dead[i]           share of ReLU units that output 0 for every example of the batch
                      (None for other activations: only a ReLU's unit can die)
    histogram[i]      counts of a_i over `bins` equal bins of `hist_range` (values outside it
                      counted in the end bins), the range fixed per activation (sigmoid [0, 1],
                      tanh [−1, 1], …) so that frames of a run can be compared

Everything is computed for all layers at once on the stacked outputs (L, N, w): one quantile
call, one bincount, whatever the depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import deepnet
from engine.nn import Sequential, Trace

Array = np.ndarray
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BINS = 24
# The outputs each activation can take, or (unbounded ones) where a healthy layer's mostly lie.
HIST_RANGE: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "sine": (-1.0, 1.0), "relu": (0.0, 4.0),
    "softplus": (0.0, 4.0), "leaky_relu": (-1.0, 4.0), "elu": (-1.0, 4.0), "gelu": (-1.0, 4.0),
    "linear": (-4.0, 4.0),
}


@dataclass
class LayerReadings:
    dense: list[str]  # L + 1 names, input side first
    grad_norms: Array  # (L + 1,)
    update_ratios: Array  # (L + 1,)
    activations: list[str]  # L names
    quantiles: Array  # (L, 5)
    mean: Array  # (L,)
    var: Array  # (L,)
    dead: Array | None  # (L,) ReLU networks only
    histogram: Array  # (L, bins) int64 counts
    hist_range: tuple[float, float]


def weights(model: Sequential) -> list[Array]:
    """Copies of every dense layer's W, input side first (to measure an update)."""
    return [layer.params["W"].copy() for _, layer in deepnet.dense_layers(model)]


def update_ratios(before: list[Array], model: Sequential) -> Array:
    """‖W_after − W_before‖ / ‖W_before‖ per dense layer (NaN where W_before is all zero)."""
    out = []
    for old, (_, layer) in zip(before, deepnet.dense_layers(model), strict=True):
        den = float(np.sqrt(np.vdot(old, old)))
        diff = layer.params["W"] - old
        out.append(float(np.sqrt(np.vdot(diff, diff))) / den if den > 0 else float("nan"))
    return np.array(out)


def quantiles(values: Array, qs: tuple[float, ...] = QUANTILES) -> Array:
    """np.quantile(values, qs, axis=1).T (linear interpolation) from one sort of each row."""
    s = np.sort(values, axis=1)
    pos = np.asarray(qs) * (s.shape[1] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, s.shape[1] - 1)
    return s[:, lo] + (s[:, hi] - s[:, lo]) * (pos - lo)


def read(model: Sequential, trace: Trace, activation: str, ratios: Array | None = None,
         bins: int = BINS, names: tuple[list[str], list[str]] | None = None) -> LayerReadings:
    """The readings of `trace` (a pass of `model` with its backward done); `names` (dense and
    activation layer names, as dense_layers and activation_layers give them) saves a walk."""
    if names is None:
        names = ([n for n, _ in deepnet.dense_layers(model)],
                 [n for n, _ in deepnet.activation_layers(model)])
    dense, acts = names
    by_name = {t.name: t for t in trace.walk()}
    norms = []
    for name in dense:
        g = by_name[name].grads.get("W")
        norms.append(float(np.sqrt(np.vdot(g, g))) if g is not None else float("nan"))
    outputs = np.stack([by_name[name].output for name in acts])  # (L, N, w)
    L = len(acts)
    flat = outputs.reshape(L, -1)
    with np.errstate(all="ignore"):
        finite = np.isfinite(flat).all(axis=1)
        qs = np.full((L, len(QUANTILES)), np.nan)
        if finite.any():
            qs[finite] = quantiles(flat[finite])
        mean, var = flat.mean(axis=1), flat.var(axis=1)
    lo, hi = HIST_RANGE.get(activation, (-4.0, 4.0))
    scaled = np.nan_to_num((flat - lo) / (hi - lo) * bins, nan=-1.0, posinf=bins, neginf=-1.0)
    idx = np.clip(np.floor(scaled), 0, bins - 1).astype(np.int64)
    hist = np.bincount((idx + bins * np.arange(L)[:, None]).ravel(), minlength=L * bins).reshape(L, bins)
    dead = (outputs <= 0.0).all(axis=1).mean(axis=1) if activation == "relu" else None
    return LayerReadings(
        dense, np.array(norms), ratios if ratios is not None else np.full(len(dense), np.nan),
        acts, qs, mean, var, dead, hist, (lo, hi),
    )
