"""Networks from plain layer specs, the form the API and the labs' pages send.

A spec is a list of dicts, each with a "type" and its settings:
    {"type": "conv", "filters": 8, "kernel": 3, "stride": 1, "padding": 1}   (also "dilation",
        "mode": zeros | reflect | replicate | circular; padding an int, "same" or "valid")
    {"type": "maxpool" | "avgpool", "size": 2, "stride": 2, "padding": 0}
    {"type": "dense", "units": 32}
    {"type": "relu"} (any name of engine.activations) or {"type": "activation", "name": "relu"}
    {"type": "flatten"}, {"type": "dropout", "p": 0.5}, {"type": "batchnorm"},
    {"type": "normalize"} (each example's vector scaled to length 1)
    {"type": "residual", "layers": [...]}  (x + F(x), projected when F changes the shape)
A Flatten is put in front of the first dense layer that meets a map; `num_classes` appends the
output layer (a dense layer named "output"). A spec that cannot be built (unknown type or
setting, a map shrinking below 1×1) raises ArchitectureError naming the layer and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine import activations
from engine.nn.activation import Activation
from engine.nn.batchnorm import BatchNorm
from engine.nn.conv2d import Conv2D
from engine.nn.dense import Dense
from engine.nn.dropout import Dropout
from engine.nn.flatten import Flatten
from engine.nn.layer import Layer, Shape
from engine.nn.normalize import Normalize
from engine.nn.pool import AvgPool2D, MaxPool2D
from engine.nn.residual import Residual
from engine.nn.sequential import Sequential, default_names

Spec = Mapping[str, Any]

SETTINGS: dict[str, set[str]] = {
    "conv": {"filters", "kernel", "stride", "padding", "dilation", "mode"},
    "maxpool": {"size", "stride", "padding"},
    "avgpool": {"size", "stride", "padding"},
    "dense": {"units"},
    "activation": {"name"},
    "flatten": set(),
    "dropout": {"p"},
    "batchnorm": set(),
    "normalize": set(),
    "residual": {"layers"},
}
TYPES = tuple(SETTINGS) + tuple(activations.ACTIVATIONS)


class ArchitectureError(ValueError):
    """A layer spec that cannot be built: `index` is its position in the spec (a residual's
    inner layers are "i.j"), `message` says why."""

    def __init__(self, index: str, spec: Spec, message: str) -> None:
        self.index, self.spec, self.message = index, dict(spec), message
        super().__init__(f"layer {index} ({_label(spec)}): {message}")


def _label(spec: Spec) -> str:
    kind = spec.get("type", "?")
    if kind == "conv":
        k = spec.get("kernel", 3)
        return f"conv {spec.get('filters', 8)} filters {k}×{k}"
    if kind in ("maxpool", "avgpool"):
        k = spec.get("size", 2)
        return f"{kind} {k}×{k}"
    if kind == "dense":
        return f"dense {spec.get('units', 16)}"
    return str(spec.get("name", kind)) if kind == "activation" else str(kind)


def _layer(spec: Spec, shape: Shape, init: str, rng: np.random.Generator, index: str) -> Layer:
    kind = spec.get("type")
    if kind in activations.ACTIVATIONS:  # {"type": "relu"} is short for an activation layer
        spec = {**{k: v for k, v in spec.items() if k != "type"}, "type": "activation", "name": kind}
        kind = "activation"
    if kind not in SETTINGS:
        raise ArchitectureError(index, spec, f"unknown layer type {kind!r}; choose one of {list(TYPES)}")
    unknown = set(spec) - SETTINGS[kind] - {"type"}
    if unknown:
        raise ArchitectureError(index, spec, f"unknown setting(s) {sorted(unknown)}; "
                                f"{kind} takes {sorted(SETTINGS[kind]) or 'none'}")
    g = spec.get
    if kind in ("conv", "maxpool", "avgpool", "flatten") and len(shape) != 3:
        raise ArchitectureError(index, spec, f"needs image maps (C, H, W) but gets {shape[0]} features")
    if kind == "conv":
        return Conv2D(shape[0], int(g("filters", 8)), int(g("kernel", 3)), int(g("stride", 1)),
                      g("padding", 0), int(g("dilation", 1)), g("mode", "zeros"), init, rng)
    if kind in ("maxpool", "avgpool"):
        cls = MaxPool2D if kind == "maxpool" else AvgPool2D
        return cls(int(g("size", 2)), None if g("stride") is None else int(g("stride")), int(g("padding", 0)))
    if kind == "dense":
        return Dense(shape[0], int(g("units", 16)), init, rng)
    if kind == "activation":
        return Activation(g("name", "relu"))
    if kind == "flatten":
        return Flatten()
    if kind == "dropout":
        return Dropout(float(g("p", 0.5)), np.random.default_rng(rng.integers(2**63)))
    if kind == "batchnorm":
        return BatchNorm(shape[0])
    if kind == "normalize":
        return Normalize()
    body = build(g("layers", []), shape, init=init, rng=rng, _prefix=f"{index}.")
    if not body.layers:
        raise ArchitectureError(index, spec, "a residual block needs at least one layer")
    return Residual(body, shape, init, rng)


def build(spec: Sequence[Spec], input_shape: Shape, num_classes: int | None = None, init: str = "he",
          rng: np.random.Generator | None = None, input_grad: bool = True, _prefix: str = "") -> Sequential:
    """The Sequential a spec describes, for inputs of `input_shape` per example (input_grad:
    see Sequential)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    shape = tuple(input_shape)
    layers: list[Layer] = []
    for i, s in enumerate(spec, start=1):
        index = f"{_prefix}{i}"
        if not isinstance(s, Mapping):
            raise ArchitectureError(index, {}, "each layer is an object with a \"type\"")
        if s.get("type") == "dense" and len(shape) == 3:
            layers.append(Flatten())
            shape = layers[-1].output_shape(shape)
        try:
            layer = _layer(s, shape, init, rng, index)
            shape = tuple(layer.output_shape(shape))
        except ArchitectureError:
            raise
        except (ValueError, KeyError) as e:
            raise ArchitectureError(index, s, str(e).strip("\"'")) from None
        layers.append(layer)
    if num_classes is not None:
        if len(shape) == 3:
            layers.append(Flatten())
            shape = layers[-1].output_shape(shape)
        layers.append(Dense(shape[0], num_classes, init, rng))
    names = default_names(layers)
    if num_classes is not None:
        names[-1] = "output"
    return Sequential(layers, names, input_grad)
