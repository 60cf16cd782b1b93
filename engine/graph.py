"""The computational graph of a small network's error: one node per multiply, add, activation
and loss, with the forward value and the backward gradient ∂E/∂node of every node.

Nodes are created in topological order, so the forward pass fills them first to last and the
backward pass last to first. Each op's local derivative sits beside its forward (micrograd
style). Leaves: inputs i, weights w, biases b, targets t. The error node takes the outputs ŷ:
``squared``: E = ½ Σ (ŷ − t)² through a "sub" node per output; ``bce`` (sigmoid outputs):
E = −Σ [t log ŷ + (1 − t) log(1 − ŷ)], whose ∂E/∂ŷ = (ŷ − t) / (ŷ(1 − ŷ)) times σ'(z) = ŷ(1 − ŷ)
gives the familiar ŷ − t at z.

A sigmoid saturates: for z ≳ 37 ŷ rounds to 1.0, so log(1 − ŷ) and that division meet 0. The bce
node therefore works from the logits z (the inputs of the output "act" nodes), as the engine's
loss does: E = Σ max(z, 0) − z·t + log(1 + e^−|z|), and the backward pass is seeded at z with
∂E/∂z = ŷ − t (the output act nodes pass nothing on). The ŷ and t nodes still show their own
gradients, from z too: ∂E/∂ŷ = −t(1 + e^−z) + (1 − t)(1 + e^z) (as 1/ŷ = 1 + e^−z and
1/(1 − ŷ) = 1 + e^z; infinite only past float range) and ∂E/∂t = log(1 − ŷ) − log ŷ = −z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.backprop import Network, names

Array = np.ndarray


@dataclass
class Node:
    """id: position in topological order; op: input, weight, bias, target, mul, add, act, sub,
    loss; value: forward value; grad: ∂E/∂value; depth: longest path from a leaf (leaves 0)."""

    id: int
    op: str
    label: str
    inputs: list[int] = field(default_factory=list)
    value: float = 0.0
    grad: float = 0.0
    depth: int = 0
    fn: str | None = None  # activation name (act) or loss name (loss)
    neuron: str | None = None  # the neuron this node computes part of


class Graph:
    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def add(self, op: str, label: str, inputs: list[int] | None = None, value: float = 0.0,
            fn: str | None = None, neuron: str | None = None) -> int:
        inputs = inputs or []
        depth = 1 + max((self.nodes[i].depth for i in inputs), default=-1)
        self.nodes.append(Node(len(self.nodes), op, label, inputs, float(value), 0.0, depth, fn, neuron))
        return len(self.nodes) - 1

    def forward(self) -> None:
        """Fill every non-leaf value from its inputs, first to last."""
        from engine import activations

        for n in self.nodes:
            v = [self.nodes[i].value for i in n.inputs]
            if n.op == "mul":
                n.value = v[0] * v[1]
            elif n.op == "add":
                n.value = float(sum(v))
            elif n.op == "act":
                n.value = float(activations.get(n.fn).output(np.array([v[0]]))[0])  # type: ignore[arg-type]
            elif n.op == "sub":
                n.value = v[0] - v[1]
            elif n.op == "loss" and n.fn == "squared":
                n.value = 0.5 * float(sum(d * d for d in v))
            elif n.op == "loss":
                k = len(v) // 2
                pairs = zip(self._logits(n), v[k:], strict=True)
                n.value = float(sum(_bce_of_logit(z, t) for z, t in pairs))

    def backward(self) -> None:
        """∂E/∂node for every node, last to first (the error node's own gradient is 1)."""
        from engine import activations

        for n in self.nodes:
            n.grad = 0.0
        self.nodes[-1].grad = 1.0
        seeded: set[int] = set()  # act nodes whose input's gradient was set from the logit
        for n in reversed(self.nodes):
            g = n.grad
            if n.id in seeded:
                continue
            ins = [self.nodes[i] for i in n.inputs]
            if n.op == "mul":
                ins[0].grad += g * ins[1].value
                ins[1].grad += g * ins[0].value
            elif n.op == "add":
                for m in ins:
                    m.grad += g
            elif n.op == "act":
                act = activations.get(n.fn)  # type: ignore[arg-type]
                ins[0].grad += g * float(act.der(np.array([ins[0].value]), np.array([n.value]))[0])
            elif n.op == "sub":
                ins[0].grad += g
                ins[1].grad -= g
            elif n.op == "loss" and n.fn == "squared":
                for m in ins:
                    m.grad += g * m.value
            elif n.op == "loss":
                k = len(ins) // 2
                for y, t in zip(ins[:k], ins[k:], strict=True):
                    z = self.nodes[y.inputs[0]]
                    z.grad += g * (y.value - t.value)  # ŷ − t, ŷ = σ(z): the engine's dL/dz
                    seeded.add(y.id)
                    y.grad += g * _bce_dy(z.value, t.value)
                    t.grad += g * -z.value

    def _logits(self, loss: Node) -> list[float]:
        """z of every output a bce node takes (each output act node's input)."""
        k = len(loss.inputs) // 2
        return [self.nodes[self.nodes[i].inputs[0]].value for i in loss.inputs[:k]]


def _bce_of_logit(z: float, t: float) -> float:
    """−[t log σ(z) + (1 − t) log(1 − σ(z))] = max(z, 0) − z·t + log(1 + e^−|z|): never log 0."""
    return max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z)))


def _bce_dy(z: float, t: float) -> float:
    """∂E/∂ŷ = −t/ŷ + (1 − t)/(1 − ŷ) = −t(1 + e^−z) + (1 − t)(1 + e^z), with no divisor that can be 0."""
    with np.errstate(over="ignore"):
        d = 0.0
        if t != 0:
            d -= t * (1.0 + float(np.exp(-z)))
        if t != 1:
            d += (1.0 - t) * (1.0 + float(np.exp(z)))
    return d


def build(net: Network, x: Array, t: Array, loss: str) -> Graph:
    """The graph of E(x, t) for `net`, with forward values and backward gradients filled."""
    nm = names(net.sizes)
    g = Graph()
    prev = [g.add("input", s, value=float(v)) for s, v in zip(nm.inputs, x, strict=True)]
    L = len(net.W)
    for l in range(L):
        cur = []
        act = net.act(l).name
        for j, neuron in enumerate(nm.neurons[l]):
            prods = []
            for i in range(net.sizes[l]):
                w = g.add("weight", nm.weights[l][i, j], value=float(net.W[l][i, j]))
                label = f"{g.nodes[prev[i]].label}·{nm.weights[l][i, j]}"  # e.g. i1·w1
                prods.append(g.add("mul", label, [prev[i], w], neuron=neuron))
            if net.biases:
                prods.append(g.add("bias", nm.biases[l][j], value=float(net.b[l][j])))
            z = g.add("add", f"z_{neuron}", prods, neuron=neuron)
            cur.append(g.add("act", neuron, [z], fn=act, neuron=neuron))
        prev = cur
    targets = [g.add("target", "t" if len(t) == 1 else f"t{k + 1}", value=float(v)) for k, v in enumerate(t)]
    if loss == "squared":
        diffs = [g.add("sub", "ŷ − t", [y, tt]) for y, tt in zip(prev, targets, strict=True)]
        g.add("loss", "E", diffs, fn="squared")
    else:
        g.add("loss", "E", prev + targets, fn="bce")
    g.forward()
    g.backward()
    return g


def param_grads(g: Graph) -> dict[str, float]:
    """∂E/∂w and ∂E/∂b by name, read off the graph's leaves."""
    return {n.label: n.grad for n in g.nodes if n.op in ("weight", "bias")}
