"""Input features computed from a point (x1, x2), as the TensorFlow Playground offers them.

Registry names are the API/URL spelling: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray

FEATURES: dict[str, tuple[str, Callable[[Array], Array]]] = {
    "x1": ("x₁", lambda X: X[:, 0]),
    "x2": ("x₂", lambda X: X[:, 1]),
    "x1sq": ("x₁²", lambda X: X[:, 0] ** 2),
    "x2sq": ("x₂²", lambda X: X[:, 1] ** 2),
    "x1x2": ("x₁x₂", lambda X: X[:, 0] * X[:, 1]),
    "sinx1": ("sin(x₁)", lambda X: np.sin(X[:, 0])),
    "sinx2": ("sin(x₂)", lambda X: np.sin(X[:, 1])),
}


def transform(X: Array, names: list[str] | tuple[str, ...]) -> Array:
    """Map points X (n, 2) to the feature matrix (n, len(names)) in the order given."""
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise KeyError(f"unknown feature(s) {unknown}; choose from {list(FEATURES)}")
    out = np.empty((X.shape[0], len(names)))
    for j, n in enumerate(names):
        out[:, j] = FEATURES[n][1](X)
    return out
