"""Statistics of a trace for the deep-model labs: how signals and gradients fare per layer.

All functions read a `Trace` (engine.nn.trace) and return plain numbers per layer name:
- `activation_stats`: mean, std and the 5/25/50/75/95 % quantiles of every layer's output,
  and the variance of dL/d(output) when a backward pass ran (signal propagation).
- `dead_fraction`: of a ReLU layer's units (a feature, or a channel at one pixel), the share
  that output 0 for every example of the batch: dead for this batch.
- `histograms`: counts of each layer's outputs over fixed bins.
- `update_ratios`: ‖θ_after − θ_before‖ / ‖θ_before‖ per layer, the update-to-weight ratio.
"""

from __future__ import annotations

import numpy as np

from engine.nn.layer import Array
from engine.nn.trace import Trace

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def activation_stats(trace: Trace) -> dict[str, dict[str, float | list[float]]]:
    out: dict[str, dict[str, float | list[float]]] = {}
    for t in trace.walk():
        a = t.output
        row: dict[str, float | list[float]] = {
            "mean": float(a.mean()), "std": float(a.std()), "var": float(a.var()),
            "quantiles": [float(q) for q in np.quantile(a, QUANTILES)],
        }
        if t.grad is not None:
            row["grad_var"] = float(t.grad.var())
        out[t.name] = row
    return out


def dead_fraction(output: Array) -> float:
    """Share of units (axes after the batch) that are ≤ 0 for every example in the batch."""
    return float(np.all(output <= 0.0, axis=0).mean())


def dead_fractions(trace: Trace) -> dict[str, float]:
    """dead_fraction of every ReLU layer's output."""
    return {t.name: dead_fraction(t.output) for t in trace.walk()
            if t.kind == "activation" and getattr(t.layer, "name", "") == "relu"}


def histograms(trace: Trace, bins: int = 20, lo: float = -3.0, hi: float = 3.0) -> dict[str, Array]:
    """Counts (bins,) of each layer's outputs in [lo, hi] (values outside go to the end bins)."""
    edges = np.linspace(lo, hi, bins + 1)
    return {t.name: np.histogram(np.clip(t.output, lo, hi), edges)[0] for t in trace.walk()}


def update_ratios(before: dict[str, list[Array]], after: dict[str, list[Array]]) -> dict[str, float | None]:
    """‖after − before‖ / ‖before‖ per layer, from parameter lists keyed by layer name
    (None where the weights were all zero: the ratio has no meaning there)."""
    out = {}
    for name, old in before.items():
        num = np.sqrt(sum(float(np.vdot(n - o, n - o)) for o, n in zip(old, after[name], strict=True)))
        den = np.sqrt(sum(float(np.vdot(o, o)) for o in old))
        out[name] = float(num / den) if den > 0 else None
    return out
