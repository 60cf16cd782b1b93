"""Central-difference gradient checking, for testing every backward pass.

numerical_grad(f, x) perturbs each element of x by ±h and returns (f(x+h) − f(x−h)) / 2h,
restoring x afterwards. `check` compares an analytic gradient with it and returns the
largest relative error, max |a − n| / max(1, |a|, |n|).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def numerical_grad(f: Callable[[], float], x: Array, h: float = 1e-6) -> Array:
    """dF/dx by central differences, where `f()` reads x (which is perturbed in place)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def elementwise_der(fn: Callable[[Array], Array], z: Array, h: float = 1e-6) -> Array:
    """d fn(z)/dz for an elementwise function, by central differences."""
    return (fn(z + h) - fn(z - h)) / (2 * h)


def max_rel_error(analytic: Array, numeric: Array) -> float:
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    denom = np.maximum(1.0, np.maximum(np.abs(a), np.abs(n)))
    return float(np.max(np.abs(a - n) / denom)) if a.size else 0.0


def check(f: Callable[[], float], x: Array, analytic: Array, h: float = 1e-6) -> float:
    """Largest relative error between `analytic` and the numerical gradient of f at x."""
    return max_rel_error(analytic, numerical_grad(f, x, h))
