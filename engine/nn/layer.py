"""The layer protocol every module of the library follows.

A layer maps a batch x (N, *in_shape) to out (N, *out_shape). `forward(x, train)` keeps what
its backward needs; `backward(dout)` takes dL/dout (N, *out_shape), stores dL/dθ in `grads`
under the same keys as `params`, and returns dL/dx (N, *in_shape) as a new array (it never
writes into dout or into anything the forward pass returned). Parameters are the arrays an
optimizer updates in place (`input_grad = False` lets a first layer skip dL/dx);
`output_shape(in_shape)` checks an input shape per example and
raises ValueError saying why the layer cannot take it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

Array = np.ndarray
Shape = tuple[int, ...]


class Layer:
    kind: ClassVar[str] = ""

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        # False: backward may skip dL/dx and return None (a network's first layer, whose input
        # is the data); parameter gradients are computed all the same.
        self.input_grad = True

    def output_shape(self, in_shape: Shape) -> Shape:
        """Per-example output shape for a per-example input shape (ValueError if impossible)."""
        return tuple(in_shape)

    def forward(self, x: Array, train: bool = False) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The layer's hyperparameters as plain values (what a page or the API shows)."""
        return {}

    def details(self) -> dict[str, Array]:
        """Extra numbers from the last forward pass worth showing (batch statistics, masks)."""
        return {}

    def children(self) -> list[tuple[str, Layer]]:
        """Named sub-layers (a residual block's body and projection); none for plain layers."""
        return []

    def child_traces(self, prefix: str) -> list:
        """LayerTraces of the sub-layers' last pass, names prefixed (see engine.nn.trace)."""
        return []

    @property
    def num_parameters(self) -> int:
        return sum(p.size for p in self.params.values())

    def describe(self) -> str:
        """One short line, e.g. "conv 8×3×3 s1 p1"."""
        return self.kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"


def check_input(x: Array, ndim: int, name: str) -> None:
    """ValueError unless x has `ndim` axes (batch included)."""
    if x.ndim != ndim:
        layout = {2: "(N, features)", 4: "(N, C, H, W)"}.get(ndim, f"{ndim} axes")
        raise ValueError(f"{name} takes {layout} input, got shape {x.shape}")
