"""Backpropagation worked by hand: a small network, one example, every number of every step.

Shapes: sizes (n_0, n_1, …, n_L) with n_0 inputs and n_L outputs; W[l] (n_l, n_l+1) with
W[l][i, j] the weight from neuron i of layer l to neuron j of layer l+1; b[l] (n_l+1,) (zero
when biases are off); x (n_0,), t (n_L,). Forward: z = a_prev·W + b, a = f(z), hidden layers
use `activation`, the output layer `output_activation`.

Error: ``squared`` E = ½ Σ_k (ŷ_k − t_k)² with Δ_k = ∂E/∂ŷ_k = ŷ_k − t_k; ``bce`` (sigmoid
output) E = −Σ_k [t_k log ŷ_k + (1 − t_k) log(1 − ŷ_k)] with Δ_k = ∂E/∂z_k = ŷ_k − t_k.
Backward: δ = ∂E/∂z; output δ_k = Δ_k·f'(z_k) (just Δ_k for bce);
hidden δ_j = f'(z_j)·Σ_k W[j, k]·δ_k; ∂E/∂W[i, j] = a_i·δ_j, ∂E/∂b_j = δ_j.
Update (plain gradient descent): w ← w − η·∂E/∂w.

Names follow the classic slide: inputs i1 …, hidden neurons h1 … (numbered on through
deeper layers), output o (o1 … for several), weights w1 … numbered by destination neuron then
source (so in a 2-2-1 net w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2, w5: h1→o, w6: h2→o),
biases b1 … in neuron order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from engine import activations, gradcheck, losses

Array = np.ndarray

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
LOSSES = ("squared", "bce")
MAX_PATHS = 4  # chain-rule products written out when a weight reaches the loss by ≤ 4 paths
_DER_SYMBOL = {"sigmoid": "σ'", "tanh": "tanh'", "relu": "relu'", "linear": "f'"}

#: The classic worked example (Matt Mazur-style 2-2-1, linear, no biases).
WORKED_EXAMPLE = {
    "sizes": (2, 2, 1),
    "inputs": (2.0, 3.0),
    "targets": (1.0,),
    "weights": (0.11, 0.21, 0.12, 0.08, 0.14, 0.15),
    "lr": 0.05,
}


@dataclass
class Network:
    """Weights, biases and activations of a small fully connected network."""

    sizes: tuple[int, ...]
    W: list[Array]
    b: list[Array]
    biases: bool = False
    activation: str = "linear"
    output_activation: str = "linear"

    def __post_init__(self) -> None:
        for name in (self.activation, self.output_activation):
            if name not in ACTIVATIONS:
                raise KeyError(f"unknown activation {name!r}; choose one of {list(ACTIVATIONS)}")

    @classmethod
    def from_flat(cls, sizes: tuple[int, ...] | list[int], weights: list[float] | Array,
                  bias_values: list[float] | Array | None = None, biases: bool = False,
                  activation: str = "linear", output_activation: str = "linear") -> Network:
        """Build from weights listed in slide order w1, w2, … (and biases b1, … in neuron order).

        Raises ValueError when a count does not fit `sizes` or a value is not finite."""
        sizes = tuple(int(s) for s in sizes)
        need = weight_count(sizes)
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if weights.size != need:
            raise ValueError(f"a {'-'.join(map(str, sizes))} network has {need} weights; got {weights.size}")
        given_b = np.asarray(bias_values if bias_values is not None else [], dtype=np.float64)
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(given_b))):
            raise ValueError("weights and biases must be finite numbers")
        W, k = [], 0
        for n_in, n_out in itertools.pairwise(sizes):
            # slide order runs over destinations j, then sources i: the transpose of W[l].
            W.append(weights[k:k + n_in * n_out].reshape(n_out, n_in).T.copy())
            k += n_in * n_out
        nb = sum(sizes[1:])
        if bias_values is None or len(bias_values) == 0:
            bvec = np.zeros(nb)
        else:
            bvec = np.asarray(bias_values, dtype=np.float64).ravel()
            if bvec.size != nb:
                raise ValueError(f"a {'-'.join(map(str, sizes))} network has {nb} biases; got {bvec.size}")
        if not biases:
            bvec = np.zeros(nb)
        b, k = [], 0
        for n_out in sizes[1:]:
            b.append(bvec[k:k + n_out].copy())
            k += n_out
        return cls(sizes, W, b, biases, activation, output_activation)

    @classmethod
    def random(cls, sizes: tuple[int, ...], seed: int, **kw: object) -> Network:
        """Weights (and biases) uniform in [−0.5, 0.5] from a seeded Generator."""
        rng = np.random.default_rng(seed)
        w = rng.uniform(-0.5, 0.5, weight_count(sizes))
        b = rng.uniform(-0.5, 0.5, sum(sizes[1:]))
        return cls.from_flat(sizes, w, b, **kw)  # type: ignore[arg-type]

    def flat_weights(self) -> Array:
        """w1, w2, … in slide order."""
        return np.concatenate([W.T.ravel() for W in self.W])

    def flat_biases(self) -> Array:
        return np.concatenate(self.b)

    def copy(self) -> Network:
        return Network(self.sizes, [W.copy() for W in self.W], [b.copy() for b in self.b],
                       self.biases, self.activation, self.output_activation)

    def act(self, layer: int) -> activations.Activation:
        """The activation of layer `layer` (0-based over layers 1..L)."""
        last = len(self.W) - 1
        return activations.get(self.output_activation if layer == last else self.activation)


def weight_count(sizes: tuple[int, ...]) -> int:
    return sum(a * b for a, b in itertools.pairwise(sizes))


@dataclass(frozen=True)
class Names:
    inputs: list[str]
    neurons: list[list[str]]  # per layer 1..L
    weights: list[Array]  # per layer, object arrays shaped like W[l]
    biases: list[list[str]]


def names(sizes: tuple[int, ...]) -> Names:
    """Slide names for every quantity of a network of these sizes."""
    inputs = [f"i{i + 1}" for i in range(sizes[0])]
    neurons: list[list[str]] = []
    h = 0
    for l, n in enumerate(sizes[1:]):
        if l == len(sizes) - 2:
            neurons.append(["o"] if n == 1 else [f"o{j + 1}" for j in range(n)])
        else:
            neurons.append([f"h{h + j + 1}" for j in range(n)])
            h += n
    weights, k = [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        Wn = np.empty((n_in, n_out), dtype=object)
        for j in range(n_out):
            for i in range(n_in):
                k += 1
                Wn[i, j] = f"w{k}"
        weights.append(Wn)
    biases, k = [], 0
    for n in sizes[1:]:
        biases.append([f"b{k + j + 1}" for j in range(n)])
        k += n
    return Names(inputs, neurons, weights, biases)


# ---------------------------------------------------------------- the numbers


def forward(net: Network, x: Array) -> tuple[list[Array], list[Array]]:
    """z[l], a[l] for layers 1..L (lists indexed 0..L−1), for one example x (n_0,)."""
    zs, as_ = [], []
    a = np.asarray(x, dtype=np.float64)
    for l, (W, b) in enumerate(zip(net.W, net.b, strict=True)):
        z = a @ W + b
        a = net.act(l).output(z)
        zs.append(z)
        as_.append(a)
    return zs, as_


def error(net: Network, z_out: Array, a_out: Array, t: Array, loss: str) -> tuple[float, Array, Array]:
    """(E, Δ, δ_out): Δ = ∂E/∂ŷ for squared, ∂E/∂z for bce; δ_out = ∂E/∂z_out."""
    if loss not in LOSSES:
        raise KeyError(f"unknown loss {loss!r}; choose one of {list(LOSSES)}")
    t = np.asarray(t, dtype=np.float64)
    value, dz, _ = losses.get(loss).value_and_grad(z_out[None, :], t[None, :], net.act(len(net.W) - 1))
    if loss == "squared":
        return value, a_out - t, dz[0]
    return value, dz[0], dz[0]


def backward(net: Network, x: Array, zs: list[Array], as_: list[Array],
             delta_out: Array) -> tuple[list[Array], list[Array], list[Array]]:
    """(δ[l] = ∂E/∂z[l], ∂E/∂W[l], ∂E/∂b[l]) for every layer; new arrays, inputs untouched."""
    L = len(net.W)
    deltas: list[Array] = [np.empty(0)] * L
    dW: list[Array] = [np.empty(0)] * L
    db: list[Array] = [np.empty(0)] * L
    d = np.asarray(delta_out, dtype=np.float64)
    for l in range(L - 1, -1, -1):
        a_prev = as_[l - 1] if l > 0 else np.asarray(x, dtype=np.float64)
        deltas[l] = d
        dW[l] = np.outer(a_prev, d)
        db[l] = d.copy() if net.biases else np.zeros_like(d)
        if l > 0:
            d = (net.W[l] @ d) * net.act(l - 1).der(zs[l - 1], as_[l - 1])
    return deltas, dW, db


def loss_of(net: Network, x: Array, t: Array, loss: str) -> float:
    zs, as_ = forward(net, x)
    return error(net, zs[-1], as_[-1], t, loss)[0]


def gradients(net: Network, x: Array, t: Array, loss: str) -> tuple[float, list[Array], list[Array]]:
    """(E, ∂E/∂W, ∂E/∂b) by backpropagation."""
    zs, as_ = forward(net, x)
    E, _, d_out = error(net, zs[-1], as_[-1], t, loss)
    _, dW, db = backward(net, x, zs, as_, d_out)
    return E, dW, db


def numeric_gradients(
    net: Network, x: Array, t: Array, loss: str, h: float = 1e-6
) -> tuple[list[Array], list[Array]]:
    """∂E/∂W and ∂E/∂b by central differences (engine.gradcheck), on a copy of the net."""
    probe = net.copy()
    f = lambda: loss_of(probe, x, t, loss)  # noqa: E731
    dW = [gradcheck.numerical_grad(f, W, h) for W in probe.W]
    db = [gradcheck.numerical_grad(f, b, h) if net.biases else np.zeros_like(b) for b in probe.b]
    return dW, db


def update(net: Network, dW: list[Array], db: list[Array], lr: float) -> Network:
    """A new network with w ← w − η·∂E/∂w (biases too when on)."""
    new = net.copy()
    new.W = [W - lr * g for W, g in zip(net.W, dW, strict=True)]
    if net.biases:
        new.b = [b - lr * g for b, g in zip(net.b, db, strict=True)]
    return new


def train(
    net: Network, x: Array, t: Array, loss: str, lr: float, repeats: int
) -> tuple[list[float], Network, bool]:
    """Repeat forward/backward/update; E before the first and after each update, the final net,
    and whether it diverged (NaN/inf stops the repeats)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _train(net, x, t, loss, lr, repeats)


def _train(
    net: Network, x: Array, t: Array, loss: str, lr: float, repeats: int
) -> tuple[list[float], Network, bool]:
    history = []
    for _ in range(repeats):
        E, dW, db = gradients(net, x, t, loss)
        history.append(E)
        if not np.isfinite(E):
            return history, net, True
        net = update(net, dW, db, lr)
    E = loss_of(net, x, t, loss)
    history.append(E)
    finite = np.isfinite(E) and all(np.all(np.isfinite(W)) for W in net.W)
    return history, net, not finite


# ---------------------------------------------------------------- the trace the lab shows


@dataclass(frozen=True)
class Factor:
    """A named number in a formula, e.g. Factor("w5", 0.14)."""

    symbol: str
    value: float


@dataclass(frozen=True)
class NeuronForward:
    """z = Σ input·weight (+ bias), a = f(z) for one neuron (step 2)."""

    name: str
    layer: int  # 1..L
    terms: list[tuple[Factor, Factor]]  # (input a_i, weight w_ij)
    bias: Factor | None
    z: float
    activation: str
    a: float


@dataclass(frozen=True)
class OutputError:
    """Step 3 for one output: ŷ, t, Δ and δ = ∂E/∂z."""

    name: str
    output: float
    target: float
    delta: float  # Δ: ∂E/∂ŷ (squared) or ∂E/∂z (bce), both ŷ − t
    act_der: Factor | None  # f'(z_o) when it enters (squared, non-linear output)
    dE_dz: float


@dataclass(frozen=True)
class NeuronBackward:
    """δ_j = ∂E/∂z_j = f'(z_j) · Σ_k w_jk · δ_k for a hidden neuron (step 4)."""

    name: str
    layer: int
    act_der: Factor | None  # None for a linear neuron (f' = 1)
    downstream: list[tuple[Factor, Factor]]  # (w_jk, δ_k)
    delta: float


@dataclass(frozen=True)
class ParamStep:
    """One weight or bias through steps 4 and 5: its gradient, how it was made, its update.

    grad = delta.value · source.value (source None for a bias: grad = δ). `paths` writes the
    chain rule out as sums of products of named factors, when there are few enough paths.
    """

    name: str
    kind: str  # "weight" | "bias"
    source: Factor | None  # the input a_i the weight multiplies
    target: str  # the neuron it feeds
    delta: Factor  # δ of that neuron
    paths: list[list[Factor]] | None
    grad: float
    numeric: float  # central-difference estimate, for the gradient check
    old: float
    new: float


@dataclass
class Trace:
    """Everything of one forward/backward/update iteration, in the six steps' order."""

    names: Names
    inputs: list[Factor]
    targets: list[float]
    loss: str
    lr: float
    forward: list[NeuronForward] = field(default_factory=list)
    outputs: list[OutputError] = field(default_factory=list)
    E: float = 0.0
    hidden: list[NeuronBackward] = field(default_factory=list)
    params: list[ParamStep] = field(default_factory=list)
    E_after: float = 0.0  # error of the same example with the updated weights
    max_rel_error: float = 0.0  # analytic vs numeric gradients
    next_net: Network | None = None


def _der_factor(net: Network, layer: int, neuron: str, z: float, a: float) -> Factor | None:
    act = net.act(layer)
    if act.name == "linear":
        return None
    d = float(act.der(np.array([z]), np.array([a]))[0])
    return Factor(f"{_DER_SYMBOL[act.name]}(z_{neuron})", d)


def trace(net: Network, x: Array, t: Array, loss: str, lr: float) -> Trace:
    """The full walk-through of one iteration for the example (x, t)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    nm = names(net.sizes)
    L = len(net.W)
    zs, as_ = forward(net, x)
    E, Delta, d_out = error(net, zs[-1], as_[-1], t, loss)
    deltas, dW, db = backward(net, x, zs, as_, d_out)
    ndW, ndb = numeric_gradients(net, x, t, loss)
    new = update(net, dW, db, lr)
    tr = Trace(nm, [Factor(s, float(v)) for s, v in zip(nm.inputs, x, strict=True)], t.tolist(), loss, lr)
    tr.E, tr.next_net = float(E), new
    tr.E_after = loss_of(new, x, t, loss)
    acts = [x, *as_]
    src_names = [nm.inputs, *nm.neurons]

    for l in range(L):
        for j, name in enumerate(nm.neurons[l]):
            terms = [
                (Factor(src, float(acts[l][i])), Factor(nm.weights[l][i, j], float(net.W[l][i, j])))
                for i, src in enumerate(src_names[l])
            ]
            bias = Factor(nm.biases[l][j], float(net.b[l][j])) if net.biases else None
            tr.forward.append(NeuronForward(
                name, l + 1, terms, bias, float(zs[l][j]), net.act(l).name, float(as_[l][j])
            ))

    # der[l][j]: the f'(z) factor of neuron j of layer l (None when it is 1 or not part of δ).
    der: list[list[Factor | None]] = [
        [_der_factor(net, l, name, float(zs[l][j]), float(as_[l][j])) for j, name in enumerate(nm.neurons[l])]
        for l in range(L)
    ]
    if loss == "bce":
        der[L - 1] = [None] * net.sizes[L]
    delta_sym = ["Δ"] if net.sizes[L] == 1 else [f"Δ_{n}" for n in nm.neurons[L - 1]]
    for k, name in enumerate(nm.neurons[L - 1]):
        tr.outputs.append(OutputError(
            name, float(as_[-1][k]), float(t[k]), float(Delta[k]), der[L - 1][k], float(d_out[k])
        ))
    for l in range(L - 2, -1, -1):
        for j, name in enumerate(nm.neurons[l]):
            down = [(Factor(nm.weights[l + 1][j, k], float(net.W[l + 1][j, k])),
                     Factor(f"δ_{nm.neurons[l + 1][k]}", float(deltas[l + 1][k])))
                    for k in range(net.sizes[l + 2])]
            tr.hidden.append(NeuronBackward(name, l + 1, der[l][j], down, float(deltas[l][j])))

    # paths[l][j]: chain-rule products from the loss down to z_j (lists of factors), or None.
    paths: list[list[list[list[Factor]] | None]] = [[None] * n for n in net.sizes[1:]]
    for k in range(net.sizes[L]):
        p = [Factor(delta_sym[k], float(Delta[k]))]
        if der[L - 1][k] is not None:
            p.append(der[L - 1][k])  # type: ignore[arg-type]
        paths[L - 1][k] = [p]
    for l in range(L - 2, -1, -1):
        for j in range(net.sizes[l + 1]):
            out: list[list[Factor]] = []
            for k in range(net.sizes[l + 2]):
                above = paths[l + 1][k]
                if above is None:
                    out = []
                    break
                w = Factor(nm.weights[l + 1][j, k], float(net.W[l + 1][j, k]))
                for p in above:
                    q = p + [w] + ([der[l][j]] if der[l][j] is not None else [])  # type: ignore[list-item]
                    out.append(q)
            paths[l][j] = out if 0 < len(out) <= MAX_PATHS else None

    for l in range(L):
        for j, target in enumerate(nm.neurons[l]):
            dsym = Factor(f"δ_{target}", float(deltas[l][j]))
            for i in range(net.sizes[l]):
                src = Factor(src_names[l][i], float(acts[l][i]))
                ps = paths[l][j]
                tr.params.append(ParamStep(
                    nm.weights[l][i, j], "weight", src, target, dsym,
                    [[*p, src] for p in ps] if ps is not None else None,
                    float(dW[l][i, j]), float(ndW[l][i, j]), float(net.W[l][i, j]), float(new.W[l][i, j]),
                ))
        if net.biases:
            for j, target in enumerate(nm.neurons[l]):
                tr.params.append(ParamStep(
                    nm.biases[l][j], "bias", None, target, Factor(f"δ_{target}", float(deltas[l][j])),
                    paths[l][j], float(db[l][j]), float(ndb[l][j]), float(net.b[l][j]), float(new.b[l][j]),
                ))
    tr.max_rel_error = gradcheck.max_rel_error(
        [p.grad for p in tr.params], [p.numeric for p in tr.params]
    ) if tr.params else 0.0
    return tr
