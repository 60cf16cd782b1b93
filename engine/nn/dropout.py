"""Inverted dropout: in training each unit is kept with probability 1 − p and scaled by
1 / (1 − p), so evaluation is the identity.

Shapes: x and out any (N, …). Train: out = x ⊙ m with m = keep / (1 − p), keep ~ Bernoulli(1 − p)
drawn from the layer's own Generator; backward dL/dx = dL/dout ⊙ m. Eval: out = x, dL/dx = dL/dout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.nn.layer import Array, Layer


class Dropout(Layer):
    kind = "dropout"

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout p must be at least 0 and below 1, got {p}")
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.mask: Array | None = None  # m of the last training pass (None in eval)

    def forward(self, x: Array, train: bool = False) -> Array:
        if not train or self.p == 0.0:
            self.mask = None
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * self.mask

    def backward(self, dout: Array) -> Array:
        return dout.copy() if self.mask is None else dout * self.mask

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def details(self) -> dict[str, Array]:
        return {} if self.mask is None else {"kept": np.asarray(float((self.mask > 0).mean()))}

    def describe(self) -> str:
        return f"dropout {self.p:g}"
