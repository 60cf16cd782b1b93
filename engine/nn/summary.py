"""Parameter counts per layer and what a fully connected network would spend instead.

For every layer (a residual block's inner layers included): its input and output shape per
example, its parameter count, its multiply-accumulates per example in the forward pass
(`macs`: C·kh·kw·D·H'·W' for a convolution, n_in·n_out for a dense layer, 0 for the others;
a training step costs about 3× that per example), and for convolutions `dense_equivalent`, the parameters a
dense layer mapping the same input to the same output would need, (C·H·W)·(D·H'·W') + D·H'·W'
(what weight sharing saves). `mlp_width_for_budget` answers the other way round: the width h
of a one-hidden-layer network n_in → h → n_out with about the same number of parameters,
h = round((budget − n_out) / (n_in + 1 + n_out)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.nn.layer import Shape
from engine.nn.residual import Residual
from engine.nn.sequential import Sequential


@dataclass(frozen=True)
class LayerSummary:
    name: str
    kind: str
    description: str
    in_shape: Shape
    out_shape: Shape
    parameters: int
    macs: int  # multiply-accumulates per example, forward
    dense_equivalent: int | None  # conv layers only


def summarize(model: Sequential, in_shape: Shape, prefix: str = "") -> list[LayerSummary]:
    rows: list[LayerSummary] = []
    shapes = model.shapes(in_shape)
    for (name, layer), s_in, s_out in zip(model.children(), shapes[:-1], shapes[1:], strict=True):
        if isinstance(layer, Residual):
            rows += summarize(layer.body, s_in, f"{prefix}{name}.")
            if layer.projection is not None:
                p = layer.projection
                rows.append(_row(f"{prefix}{name}.projection", p, s_in, s_out))
            continue
        rows.append(_row(prefix + name, layer, s_in, s_out))
    return rows


def _row(name: str, layer, s_in: Shape, s_out: Shape) -> LayerSummary:
    equiv, macs = None, 0
    if layer.kind == "conv2d":
        n_in, n_out = math.prod(s_in), math.prod(s_out)
        equiv = n_in * n_out + n_out
        macs = layer.params["w"][0].size * n_out  # C·kh·kw per output number
    elif layer.kind == "dense":
        macs = layer.params["W"].size
    return LayerSummary(name, layer.kind, layer.describe(), tuple(s_in), tuple(s_out),
                        layer.num_parameters, macs, equiv)


def mlp_width_for_budget(budget: int, n_in: int, n_out: int) -> int:
    """Hidden width of n_in → h → n_out whose (n_in + 1)·h + (h + 1)·n_out is closest to budget."""
    return max(1, round((budget - n_out) / (n_in + 1 + n_out)))
