"""Deep fully connected networks for the depth lab: plain or residual, with or without BatchNorm.

A network of depth L and width w on inputs of n_in features has L hidden layers, each a dense
layer followed by its activation, and a dense output layer (the logits):

    dense1: z₁ = x W₁ + b₁                                  (n_in → w)
    layer i = 2 … L, plain:     h_i = W_i · f(BN(h_{i−1})) + b_i        (w → w)
                     residual:  h_i = h_{i−1} + W_i · f(BN(h_{i−1})) + b_i
    output:  logits = f(BN(h_L)) W_out + b_out                (w → n_out)

with h₁ = z₁, BN present only when asked. The residual form is the pre-activation unit of He
et al. (2016, "Identity mappings in deep residual networks"): the skip path carries h_{i−1}
through unchanged, so dL/dh_{i−1} = dL/dh_i + (the branch's term), and the gradient reaches the
first layer even when every branch's term is tiny (saturated sigmoids). Without the skips the
same layers compute the plain network f(…f(f(x W₁) W₂)…).

Both forms draw their weights in the same order (W₁, W₂, …, W_L, W_out) from the Generator,
so a plain and a residual network built from the same seed start from identical weights: the
skip connections are the only difference. Layer names carry the hidden layer's index:
"dense3", "bn2", "sigmoid2" (plain) and "block3.dense3", "block3.sigmoid2" (residual), with
activation i (and BN i) the ones that follow dense i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import activations, initializers
from engine.nn.activation import Activation
from engine.nn.batchnorm import BatchNorm
from engine.nn.dense import Dense
from engine.nn.layer import Layer
from engine.nn.residual import Residual
from engine.nn.sequential import Sequential


@dataclass(frozen=True)
class NetSpec:
    """What distinguishes the networks the lab compares (depth and width are shared)."""

    activation: str = "relu"
    init: str = "he"
    residual: bool = False
    batchnorm: bool = False

    def check(self) -> None:
        """KeyError naming the allowed values for an unknown activation or initializer."""
        activations.get(self.activation)
        initializers.get(self.init)

    def describe(self) -> str:
        """"residual · sigmoid · xavier · BN": what a page labels the network with."""
        parts = ["residual" if self.residual else "plain", self.activation, self.init]
        return " · ".join(parts + (["BatchNorm"] if self.batchnorm else []))


def _unit(i: int, width: int, spec: NetSpec) -> tuple[list[Layer], list[str]]:
    """[BN] → f → (nothing): what follows dense i, named by i."""
    layers: list[Layer] = [BatchNorm(width)] if spec.batchnorm else []
    names = [f"bn{i}"] if spec.batchnorm else []
    return [*layers, Activation(spec.activation)], [*names, f"{spec.activation}{i}"]


def build(n_in: int, n_out: int | None, depth: int, width: int, spec: NetSpec,
          rng: np.random.Generator | None = None, input_grad: bool = False) -> Sequential:
    """The network described above; n_out=None leaves out the output layer (the hidden stack
    ends with f(BN(h_L)), for signal-propagation studies). input_grad: see Sequential."""
    if depth < 1 or width < 1:
        raise ValueError(f"a network needs at least one hidden layer of one unit, got depth {depth}, "
                         f"width {width}")
    spec.check()
    rng = rng if rng is not None else np.random.default_rng(0)
    layers: list[Layer] = [Dense(n_in, width, spec.init, rng)]
    names = ["dense1"]
    for i in range(2, depth + 1):
        unit, unit_names = _unit(i - 1, width, spec)
        unit.append(Dense(width, width, spec.init, rng))
        unit_names.append(f"dense{i}")
        if spec.residual:
            layers.append(Residual(Sequential(unit, unit_names), (width,)))
            names.append(f"block{i}")
        else:
            layers += unit
            names += unit_names
    head, head_names = _unit(depth, width, spec)
    layers += head
    names += head_names
    if n_out is not None:
        layers.append(Dense(width, n_out, spec.init, rng))
        names.append("output")
    return Sequential(layers, names, input_grad)


def dense_layers(model: Sequential) -> list[tuple[str, Dense]]:
    """The weight layers, input side first: dense1, dense2 (or block2.dense2), …, output."""
    return [(name, layer) for name, layer in model.leaves() if isinstance(layer, Dense)]


def activation_layers(model: Sequential) -> list[tuple[str, Activation]]:
    """The activations, input side first: activation i follows dense i."""
    return [(name, layer) for name, layer in model.leaves() if isinstance(layer, Activation)]
