"""Shapes, parameters and multiply-accumulates of a layer spec, worked out before any weight is
drawn, so a lab can refuse a network too large for its budgets and name the layer.

`plan(spec, input_shape, num_classes)` yields one `PlannedLayer` per layer that `build` would
make, in order (the Flatten `build` puts in front of a dense layer that meets maps, and the
output layer, included), each as soon as its shape is known: a caller that stops at the first
layer past a budget never makes the later ones. Dense and conv layers are computed from their
sizes (no weights are drawn for them: a dense layer after large maps would need a big matrix);
the other layers are made as `build` makes them (a residual block with its weights), so the
same spec fails here with the same ArchitectureError ("layer 4 (maxpool 2×2): the 2×2 window
does not fit the 1×1 map ...").
Counts are those of engine.nn.summary:
    conv:  parameters D·(C·kh·kw + 1),   macs C·kh·kw · D·H'·W'
    dense: parameters (n_in + 1)·n_out,  macs n_in·n_out
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.nn.build import ArchitectureError, Spec, _label, _layer
from engine.nn.conv2d import Conv2D
from engine.nn.layer import Shape
from engine.nn.sequential import Sequential
from engine.nn.summary import summarize


@dataclass(frozen=True)
class PlannedLayer:
    index: str  # place in the spec ("3"), "output", or "" for a Flatten that build adds
    label: str  # "conv 8 filters 3×3", "dense 32", "relu", ...
    out_shape: Shape  # per example
    parameters: int
    macs: int  # multiply-accumulates per example, forward


def plan(spec: Sequence[Spec], input_shape: Shape, num_classes: int | None = None) -> Iterator[PlannedLayer]:
    shape = tuple(input_shape)
    rng = np.random.default_rng(0)
    for i, s in enumerate(spec, start=1):
        index = str(i)
        if not isinstance(s, Mapping):
            raise ArchitectureError(index, {}, "each layer is an object with a \"type\"")
        kind = s.get("type")
        if kind == "dense" and len(shape) == 3:
            shape = (math.prod(shape),)
            yield PlannedLayer("", "flatten", shape, 0, 0)
        try:
            if kind == "dense":
                units = int(s.get("units", 16))
                if units < 1:
                    raise ValueError("a dense layer needs at least one unit")
                unknown = set(s) - {"type", "units"}
                if unknown:
                    raise ValueError(f"unknown setting(s) {sorted(unknown)}; dense takes ['units']")
                if len(shape) != 1:
                    raise ValueError(f"needs features but gets maps {shape}")
                row = PlannedLayer(index, _label(s), (units,), (shape[0] + 1) * units, shape[0] * units)
            elif kind == "conv":
                row = _conv(s, shape, rng, index)
            else:
                layer = _layer(s, shape, "he", rng, index)
                out = tuple(layer.output_shape(shape))
                macs = sum(r.macs for r in summarize(Sequential([layer]), shape)) if layer.children() else 0
                row = PlannedLayer(index, _label(s), out, layer.num_parameters, macs)
        except ArchitectureError:
            raise
        except (ValueError, KeyError, TypeError) as e:
            raise ArchitectureError(index, s, str(e).strip("\"'")) from None
        shape = row.out_shape
        yield row
    if num_classes is not None:
        if len(shape) == 3:
            shape = (math.prod(shape),)
            yield PlannedLayer("", "flatten", shape, 0, 0)
        yield PlannedLayer("output", f"dense {num_classes}", (num_classes,), (shape[0] + 1) * num_classes,
                           shape[0] * num_classes)


def _conv(s: Spec, shape: Shape, rng: np.random.Generator, index: str) -> PlannedLayer:
    """A conv layer's row from a one-filter stand-in (same shape rules, C·kh·kw weights drawn)."""
    filters = int(s.get("filters", 8))
    if filters < 1:
        raise ValueError("a convolution needs at least one filter")
    try:
        one = _layer({**s, "filters": 1}, shape, "he", rng, index)
        assert isinstance(one, Conv2D)
        _, Ho, Wo = one.output_shape(shape)
    except ArchitectureError as e:  # say it of the layer asked for, not of the stand-in
        raise ArchitectureError(index, s, e.message) from None
    taps = one.params["w"].size  # C·kh·kw
    return PlannedLayer(index, _label(s), (filters, Ho, Wo), filters * (taps + 1), taps * filters * Ho * Wo)
