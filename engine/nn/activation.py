"""An activation function as a layer: a = f(z) elementwise, from the engine's registry.

Shapes: z and a any (N, …), the same. Backward: dL/dz = dL/da ⊙ f'(z), with f' taken from
`engine.activations` (which reuses a = f(z) where that is cheaper).
"""

from __future__ import annotations

from typing import Any

from engine import activations
from engine.nn.layer import Array, Layer


class Activation(Layer):
    kind = "activation"

    def __init__(self, name: str) -> None:
        super().__init__()
        self.fn = activations.get(name)
        self.name = name
        self._z: Array | None = None
        self._a: Array | None = None

    def forward(self, x: Array, train: bool = False) -> Array:
        self._z = x
        self._a = self.fn.output(x)
        return self._a

    def backward(self, dout: Array) -> Array:
        return dout * self.fn.der(self._z, self._a)

    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def describe(self) -> str:
        return self.name
