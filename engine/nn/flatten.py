"""Flatten: (N, C, H, W) → (N, C·H·W) in C order (channel-major, as torch.flatten(x, 1)).

Backward reshapes the gradient back: dL/dx = reshape(dL/dout, x.shape).
"""

from __future__ import annotations

import math

from engine.nn.layer import Array, Layer, Shape


class Flatten(Layer):
    kind = "flatten"

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] = ()

    def output_shape(self, in_shape: Shape) -> Shape:
        return (math.prod(in_shape),)

    def forward(self, x: Array, train: bool = False) -> Array:
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout: Array) -> Array:
        return dout.reshape(self._shape).copy()
