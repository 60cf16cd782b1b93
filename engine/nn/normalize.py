"""L2 normalization of each example's vector: y = x / ‖x‖ (embeddings on the unit sphere, as
contrastive heads use them).

Shapes: x and y (N, F). With r = max(‖x‖, ε) per row (ε keeps a zero vector finite):
    y = x / r,   dL/dx = (g − y (y · g)) / r   for g = dL/dy (the projection of g onto the
    sphere's tangent plane, scaled by 1/r); rows below ε are just scaled: dL/dx = g / ε.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.nn.layer import Array, Layer, Shape, check_input


class Normalize(Layer):
    kind = "normalize"

    def __init__(self, eps: float = 1e-12) -> None:
        super().__init__()
        self.eps = eps
        self._y: Array | None = None
        self._r: Array | None = None
        self._small: Array | None = None

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 1:
            raise ValueError(f"normalizes feature vectors (F,), got shape {tuple(in_shape)}")
        return tuple(in_shape)

    def forward(self, x: Array, train: bool = False) -> Array:
        check_input(x, 2, "normalize")
        norm = np.sqrt(np.einsum("nf,nf->n", x, x))[:, None]
        self._r = np.maximum(norm, self.eps)
        self._small = norm < self.eps
        self._y = x / self._r
        return self._y

    def backward(self, dout: Array) -> Array:
        y, r = self._y, self._r
        tangent = dout - y * np.einsum("nf,nf->n", y, dout)[:, None]
        return np.where(self._small, dout, tangent) / r

    def config(self) -> dict[str, Any]:
        return {"eps": self.eps}
