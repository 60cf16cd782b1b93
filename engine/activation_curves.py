"""Activation functions as curves: f and f′ sampled on an interval, and where f′ is largest.

The largest slope bounds what one layer can pass back: dL/dz = f′(z) · dL/da, so through k
layers of sigmoids (f′ ≤ 1/4) a gradient is scaled by at most (1/4)ᵏ times what the weights
do, 0.25¹⁰ ≈ 9.5·10⁻⁷ for ten layers. `derivative_peak` finds max f′ on [lo, hi]: a dense grid,
then golden-section refinement around the best grid point; where f′ is flat at its maximum
(ReLU, linear) it reports the plateau's extent instead of one point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import activations

Array = np.ndarray
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class Peak:
    """max f′ on the interval: its value, where (z), and the z-extent of a flat maximum."""

    value: float
    z: float
    plateau: tuple[float, float] | None  # (from, to) when f′ equals its maximum on a stretch


def derivative(name: str, z: Array) -> Array:
    """f′(z) elementwise."""
    fn = activations.get(name)
    z = np.asarray(z, dtype=np.float64)
    return fn.der(z, fn.output(z))


def sample(name: str, lo: float, hi: float, n: int) -> tuple[Array, Array, Array]:
    """z (n,) evenly spaced on [lo, hi], f(z) and f′(z)."""
    if not hi > lo or n < 2:
        raise ValueError(f"sample needs lo < hi and n ≥ 2, got [{lo}, {hi}] with n = {n}")
    fn = activations.get(name)
    z = np.linspace(lo, hi, n)
    a = fn.output(z)
    return z, a, fn.der(z, a)


def derivative_peak(name: str, lo: float = -6.0, hi: float = 6.0, grid: int = 4001) -> Peak:
    """The largest f′ on [lo, hi] (to about 1e-12 in z where it is a smooth peak)."""
    z = np.linspace(lo, hi, grid)
    d = derivative(name, z)
    k = int(np.argmax(d))
    top = float(d[k])
    flat = np.flatnonzero(np.abs(d - top) <= 1e-12 * max(1.0, abs(top)))
    if len(flat) > 2:  # a stretch of equal slopes (ReLU for z > 0, linear everywhere)
        return Peak(top, float(z[flat[0]]), (float(z[flat[0]]), float(z[flat[-1]])))
    if 0 < k < grid - 1:  # refine inside the bracket around the best grid point
        a, b = float(z[k - 1]), float(z[k + 1])
        for _ in range(80):
            c, e = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
            if derivative(name, np.array([c]))[0] >= derivative(name, np.array([e]))[0]:
                b = e
            else:
                a = c
        zk = (a + b) / 2.0
        value = float(derivative(name, np.array([zk]))[0])
        if value >= top:
            return Peak(value, zk, None)
    return Peak(top, float(z[k]), None)


def output_range(name: str, lo: float = -6.0, hi: float = 6.0, grid: int = 4001) -> tuple[float, float]:
    """min and max of f on [lo, hi] (sampled)."""
    _, a, _ = sample(name, lo, hi, grid)
    return float(a.min()), float(a.max())
