"""A residual block (He et al. 2016): out = F(x) + P(x).

F is the block's body (a Sequential); P is the identity when F keeps the shape and otherwise
a projection that brings x to F's output shape: a Dense layer for features (F,) → (F',), a
1×1 convolution with stride s for maps (C, H, W) → (D, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1).
Backward: dL/dx = F.backward(dout) + P.backward(dout) (P = identity: + dout), the gradient's
short path around the body that keeps deep networks trainable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.nn.conv2d import Conv2D
from engine.nn.dense import Dense
from engine.nn.layer import Array, Layer, Shape
from engine.nn.sequential import Sequential
from engine.nn.trace import LayerTrace


def projection(in_shape: Shape, out_shape: Shape, init: str = "he",
               rng: np.random.Generator | None = None) -> Layer | None:
    """None when the shapes agree; else the Dense or strided 1×1 Conv2D mapping one to the other."""
    in_shape, out_shape = tuple(in_shape), tuple(out_shape)
    if in_shape == out_shape:
        return None
    if len(in_shape) == 1 and len(out_shape) == 1:
        return Dense(in_shape[0], out_shape[0], init, rng)
    if len(in_shape) == 3 and len(out_shape) == 3:
        (C, H, W), (D, Ho, Wo) = in_shape, out_shape
        for s in range(1, max(H, W) + 1):
            if (H - 1) // s + 1 == Ho and (W - 1) // s + 1 == Wo:
                return Conv2D(C, D, 1, stride=s, init=init, rng=rng)
    raise ValueError(f"no projection maps the block's input {in_shape} to its output {out_shape}: "
                     "keep the same kind of shape and shrink maps by a whole stride")


class Residual(Layer):
    kind = "residual"

    def __init__(self, body: Sequential | Sequence[Layer], in_shape: Shape, init: str = "he",
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.body = body if isinstance(body, Sequential) else Sequential(body)
        self.in_shape = tuple(in_shape)
        self.out_shape = self.body.output_shape(self.in_shape)
        self.projection = projection(self.in_shape, self.out_shape, init, rng)
        self._p_out: Array | None = None
        self._p_grad: Array | None = None

    def output_shape(self, in_shape: Shape) -> Shape:
        if tuple(in_shape) != self.in_shape:
            raise ValueError(f"the block was built for input {self.in_shape}, got {tuple(in_shape)}")
        return self.out_shape

    def children(self) -> list[tuple[str, Layer]]:
        out = self.body.children()
        return [*out, ("projection", self.projection)] if self.projection is not None else out

    @property
    def num_parameters(self) -> int:
        return sum(layer.num_parameters for _, layer in self.children())

    def forward(self, x: Array, train: bool = False) -> Array:
        f = self.body.forward(x, train)
        self._p_grad = None
        if self.projection is None:
            return f + x
        self._p_out = self.projection.forward(x, train)
        return f + self._p_out

    def backward(self, dout: Array) -> Array:
        dx = self.body.backward(dout)
        if self.projection is None:
            return dx + dout
        self._p_grad = dout
        return dx + self.projection.backward(dout)

    def child_traces(self, prefix: str) -> list[LayerTrace]:
        out = self.body.layer_traces(prefix)
        p = self.projection
        if p is not None:
            out.append(LayerTrace(prefix + "projection", p.kind, p, self._p_out, self._p_grad,
                                  p.grads if self._p_grad is not None else {}, p.details()))
        return out

    def describe(self) -> str:
        inner = self.body.describe()
        return f"residual [{inner}]" + (f" + {self.projection.describe()}" if self.projection else "")
