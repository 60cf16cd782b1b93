"""What one forward/backward pass of a network computed, layer by layer, for pages and labs.

A `LayerTrace` holds one layer's output a (N, *out_shape), the gradient of the loss with
respect to that output dL/da (same shape; None before a backward pass), its parameter
gradients dL/dθ (same keys and shapes as `layer.params`), extra numbers the layer reports
(batch statistics, dropout's kept share) and, for a residual block, the traces of its inner
layers. Names are dotted paths ("block1.dense2") that stay the same from step to step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from engine.nn.layer import Array, Layer


@dataclass(slots=True)
class LayerTrace:
    """One layer in one pass.

    name:     dotted path, unique in the network ("conv1", "block2.dense1")
    kind:     the layer's kind ("conv2d", "activation", "maxpool", "dense", ...)
    layer:    the layer itself (its live `params`, `config()`, `describe()`)
    output:   a, the layer's output for the batch (N, *out_shape)
    grad:     dL/da (N, *out_shape), the error derivative with respect to that output
    grads:    dL/dθ per parameter name ({} for layers without parameters)
    details:  extra arrays from the pass (batchnorm: batch_mean, batch_var, running_*)
    children: a residual block's inner layers, then its projection
    """

    name: str
    kind: str
    layer: Layer
    output: Array
    grad: Array | None = None
    grads: dict[str, Array] = field(default_factory=dict)
    details: dict[str, Array] = field(default_factory=dict)
    children: list[LayerTrace] = field(default_factory=list)

    @property
    def grad_norm(self) -> float | None:
        """‖dL/dθ‖ over all this layer's parameters (None when it has none or no backward ran)."""
        if not self.grads:
            return None
        return float(np.sqrt(sum(float(np.vdot(g, g)) for g in self.grads.values())))


@dataclass(slots=True)
class Trace:
    """A whole pass: inputs (N, *in_shape), the top-level layers in order, and, when a loss
    was computed, its mean value, the labels and the softmax probabilities (N, K)."""

    inputs: Array
    layers: list[LayerTrace]
    loss: float | None = None
    labels: Array | None = None
    probs: Array | None = None

    @property
    def logits(self) -> Array:
        return self.layers[-1].output if self.layers else self.inputs

    def walk(self) -> Iterator[LayerTrace]:
        """Every layer depth-first: a residual block, then the layers inside it."""
        stack = list(reversed(self.layers))
        while stack:
            t = stack.pop()
            yield t
            stack.extend(reversed(t.children))

    def __getitem__(self, name: str) -> LayerTrace:
        for t in self.walk():
            if t.name == name:
                return t
        raise KeyError(f"no layer {name!r}; the network has {[t.name for t in self.walk()]}")

    def grad_norms(self) -> dict[str, float]:
        """‖dL/dθ‖ per layer with parameters, input side first."""
        return {t.name: norm for t in self.walk() if (norm := t.grad_norm) is not None}
