"""A network as a sequence of layers that records a trace of every pass.

forward:  a₀ = x, aᵢ = layerᵢ(aᵢ₋₁), output a_L (logits for a classifier).
backward: gᴸ = dL/da_L given, gᵢ₋₁ = layerᵢ.backward(gᵢ); returns dL/dx = g₀ (None when built
          with input_grad=False: a trainer needs no gradient for its data).
Each pass keeps every aᵢ and gᵢ (references to arrays the layers made, never copies), so
`trace()` costs nothing extra. `parameters()` and `gradients()` list the arrays of every layer,
nested ones included, in one fixed order: an optimizer from `engine.optimizers` takes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from engine.losses import softmax
from engine.nn.layer import Array, Layer, Shape
from engine.nn.loss import softmax_cross_entropy
from engine.nn.trace import LayerTrace, Trace

_SHORT = {"conv2d": "conv", "maxpool": "pool", "avgpool": "pool", "batchnorm": "bn", "residual": "block"}


def default_names(layers: Sequence[Layer]) -> list[str]:
    """conv1, relu1, pool1, flatten, dense1, …: kind (or activation name) and a running count."""
    bases = [getattr(layer, "name", "act") if layer.kind == "activation"
             else _SHORT.get(layer.kind, layer.kind) for layer in layers]
    totals = Counter(bases)
    seen: Counter[str] = Counter()
    names = []
    for b in bases:
        seen[b] += 1
        names.append(b if b == "flatten" and totals[b] == 1 else f"{b}{seen[b]}")
    return names


class Sequential(Layer):
    kind = "sequential"

    def __init__(self, layers: Sequence[Layer], names: Sequence[str] | None = None,
                 input_grad: bool = True) -> None:
        super().__init__()
        self.layers = list(layers)
        if self.layers:  # input_grad=False: backward returns None, the first layer skips dL/dx
            self.input_grad = self.layers[0].input_grad = input_grad
        self.names = list(names) if names is not None else default_names(self.layers)
        if len(self.names) != len(self.layers) or len(set(self.names)) != len(self.names):
            raise ValueError("give every layer its own name")
        self._inputs: Array | None = None
        self._outputs: list[Array] = []
        self._grads: list[Array | None] = []
        self._loss: tuple[float, Array, Array] | None = None

    # ----- structure ----------------------------------------------------------------------
    def children(self) -> list[tuple[str, Layer]]:
        return list(zip(self.names, self.layers, strict=True))

    def output_shape(self, in_shape: Shape) -> Shape:
        """Shape after every layer; ValueError naming the first layer that cannot take its input."""
        return self.shapes(in_shape)[-1]

    def shapes(self, in_shape: Shape) -> list[Shape]:
        """[in_shape, after layer 1, …, after layer L] per example."""
        out = [tuple(in_shape)]
        for name, layer in self.children():
            try:
                out.append(tuple(layer.output_shape(out[-1])))
            except ValueError as e:
                raise ValueError(f"{name} ({layer.describe()}): {e}") from None
        return out

    def leaves(self) -> Iterator[tuple[str, Layer]]:
        """Every layer that holds its own parameters or computes something, nested ones included."""
        for name, layer in self.children():
            subs = layer.children()
            if subs:
                yield from _leaves(name, subs)
            else:
                yield name, layer

    def parameters(self) -> list[Array]:
        return [p for _, layer in self.leaves() for p in layer.params.values()]

    def gradients(self) -> list[Array]:
        """dL/dθ after `backward`, in the order of `parameters()`."""
        return [layer.grads[k] for _, layer in self.leaves() for k in layer.params]

    @property
    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # ----- passes -------------------------------------------------------------------------
    def forward(self, x: Array, train: bool = False) -> Array:
        self._inputs, outputs = x, []
        for layer in self.layers:
            x = layer.forward(x, train)
            outputs.append(x)
        self._outputs = outputs
        self._grads = [None] * len(outputs)
        self._loss = None
        return x

    def backward(self, dout: Array) -> Array | None:
        grads = self._grads
        for i in range(len(self.layers) - 1, -1, -1):
            grads[i] = dout
            dout = self.layers[i].backward(dout)
        return dout if self.input_grad else None

    def loss_and_grads(self, x: Array, labels: Array, train: bool = True) -> Trace:
        """Forward, mean softmax cross-entropy of the logits against integer labels, backward."""
        logits = self.forward(x, train)
        loss, dlogits, probs = softmax_cross_entropy(logits, labels)
        self.backward(dlogits)
        self._loss = (loss, labels, probs)
        return self.trace()

    def trace(self) -> Trace:
        """The last pass (and its loss when `loss_and_grads` made it)."""
        loss, labels, probs = self._loss if self._loss is not None else (None, None, None)
        return Trace(self._inputs, self.layer_traces(), loss, labels, probs)

    def layer_traces(self, prefix: str = "") -> list[LayerTrace]:
        out = []
        for (name, layer), a, g in zip(self.children(), self._outputs, self._grads, strict=True):
            out.append(LayerTrace(prefix + name, layer.kind, layer, a, g,
                                  layer.grads if g is not None else {}, layer.details(),
                                  layer.child_traces(prefix + name + ".")))
        return out

    def child_traces(self, prefix: str) -> list[LayerTrace]:
        return self.layer_traces(prefix)

    def predict(self, x: Array) -> Array:
        """Softmax probabilities (N, K) in evaluation mode (no dropout, running statistics)."""
        return softmax(self.forward(x, train=False))

    def describe(self) -> str:
        return " → ".join(layer.describe() for layer in self.layers)


def _leaves(prefix: str, children: list[tuple[str, Layer]]) -> Iterator[tuple[str, Layer]]:
    for name, layer in children:
        subs = layer.children()
        if subs:
            yield from _leaves(f"{prefix}.{name}", subs)
        else:
            yield f"{prefix}.{name}", layer
