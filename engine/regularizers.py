"""Weight regularizers as function/derivative pairs (applied to weights, never biases).

The objective is data loss + rate · Σ r(w); the gradient adds rate · r'(w) to dL/dW.
- ``none``: r(w) = 0.
- ``l1``: r(w) = |w|, r'(w) = sign(w) (0 at 0).
- ``l2``: r(w) = ½ w², r'(w) = w (TF Playground's convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Regularizer:
    name: str
    label: str
    output: Callable[[Array], float]
    der: Callable[[Array], Array]


REGULARIZERS: dict[str, Regularizer] = {
    r.name: r
    for r in [
        Regularizer("none", "None", lambda w: 0.0, lambda w: np.zeros_like(w)),
        Regularizer("l1", "L1", lambda w: float(np.sum(np.abs(w))), np.sign),
        Regularizer("l2", "L2", lambda w: 0.5 * float(np.sum(w * w)), lambda w: w.copy()),
    ]
}


def get(name: str) -> Regularizer:
    try:
        return REGULARIZERS[name]
    except KeyError:
        raise KeyError(
            f"unknown regularization {name!r}; choose one of {sorted(REGULARIZERS)}"
        ) from None
