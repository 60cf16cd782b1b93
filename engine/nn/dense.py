"""Dense (fully connected) layer: z = x W + b.

Shapes: x (N, n_in), W (n_in, n_out), b (n_out,), z (N, n_out), the layout of
`engine/mlp.py` (torch's nn.Linear stores Wᵀ). Backward, for dz = dL/dz:
    dW = xᵀ dz,   db = Σ_rows dz,   dx = dz Wᵀ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import initializers
from engine.nn.layer import Array, Layer, Shape


class Dense(Layer):
    kind = "dense"

    def __init__(self, n_in: int, n_out: int, init: str = "he",
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1:
            raise ValueError(f"a dense layer needs at least one input and one output, got {n_in} → {n_out}")
        self.n_in, self.n_out, self.init = n_in, n_out, init
        W, b = initializers.get(init)(n_in, n_out, rng if rng is not None else np.random.default_rng(0))
        self.params = {"W": W, "b": b}
        self._x: Array | None = None

    def output_shape(self, in_shape: Shape) -> Shape:
        if tuple(in_shape) != (self.n_in,):
            raise ValueError(f"expects {self.n_in} inputs per example, got shape {tuple(in_shape)}")
        return (self.n_out,)

    def forward(self, x: Array, train: bool = False) -> Array:
        self._x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout: Array) -> Array | None:
        x = self._x
        self.grads = {"W": x.T @ dout, "b": dout.sum(axis=0)}
        return dout @ self.params["W"].T if self.input_grad else None

    def config(self) -> dict[str, Any]:
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init}

    def describe(self) -> str:
        return f"dense {self.n_in}→{self.n_out}"
