"""A multi-layer perceptron with explicit, vectorized forward and backward passes.

Shapes: X (N, n_in); layer l has W[l] (n_l−1, n_l) and b[l] (n_l,), z[l] = a[l−1] W[l] + b[l]
(N, n_l) and a[l] = f(z[l]); a[0] = X. Hidden layers share one activation; the output layer
has its own (tanh, sigmoid, linear or softmax), chosen to fit the loss.

Backward, for the output gradient dz[L] = dL/dz[L] given by the loss:
    dW[l] = a[l−1]ᵀ dz[l],  db[l] = Σ_rows dz[l],  dz[l−1] = (dz[l] W[l]ᵀ) ⊙ f'(z[l−1]).
Backward allocates new arrays and never writes into the forward values, so a trace keeps the
numbers the UI shows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from engine import activations, initializers, losses, regularizers

Array = np.ndarray


@dataclass(slots=True)
class Trace:
    """One forward/backward pass. Lists run over layers 1..L (index 0 = first hidden layer).

    z:  pre-activations z[l] (N, n_l)
    a:  activations a[l] = f(z[l]) (N, n_l); `inputs` holds a[0] = X
    dz: dL/dz[l], error derivative with respect to each neuron's pre-activation (N, n_l)
    dW: dL/dW[l] (n_l−1, n_l), data loss plus regularization
    db: dL/db[l] (n_l,)
    """

    inputs: Array
    z: list[Array]
    a: list[Array]
    loss: float
    dz: list[Array]
    dW: list[Array]
    db: list[Array]

    def grad_norms(self) -> list[tuple[float, float]]:
        """(‖dL/dW‖, ‖dL/db‖) per layer: how strongly each layer is being pushed."""
        return [(float(np.linalg.norm(dW)), float(np.linalg.norm(db)))
                for dW, db in zip(self.dW, self.db, strict=True)]


def check_parameters(sizes: list[int], pairs: list[tuple[Array, Array]]) -> None:
    """ValueError naming the layer unless `pairs` are finite (W, b) of shapes
    (sizes[l], sizes[l+1]) and (sizes[l+1],) for every layer."""
    if len(pairs) != len(sizes) - 1:
        raise ValueError(f"weights: give a list of {len(sizes) - 1} layers of W and b, got {len(pairs)}")
    for i, (W, b) in enumerate(pairs):
        want_W, want_b = (sizes[i], sizes[i + 1]), (sizes[i + 1],)
        if W.shape != want_W or b.shape != want_b:
            raise ValueError(
                f"weights.{i}: W must have shape {list(want_W)} and b {list(want_b)}, "
                f"got {list(W.shape)} and {list(b.shape)}"
            )
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError(f"weights.{i}: values must be finite")


class MLP:
    def __init__(
        self,
        sizes: list[int],
        activation: str = "tanh",
        output_activation: str = "tanh",
        init: str = "tf_uniform",
        rng: np.random.Generator | None = None,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError("an MLP needs at least an input and an output size")
        self.sizes = list(sizes)
        self.act = activations.get(activation)
        self.output_activation = output_activation
        self._out_act = None if output_activation == "softmax" else activations.get(output_activation)
        self._out_fn = losses.softmax if self._out_act is None else self._out_act.output
        rng = rng if rng is not None else np.random.default_rng(0)
        make = initializers.get(init)
        self.W: list[Array] = []
        self.b: list[Array] = []
        for n_in, n_out in itertools.pairwise(sizes):
            W, b = make(n_in, n_out, rng)
            self.W.append(W)
            self.b.append(b)

    def parameters(self) -> list[Array]:
        """[W1, b1, W2, b2, ...]: the arrays an optimizer updates in place."""
        out: list[Array] = []
        for W, b in zip(self.W, self.b, strict=True):
            out += [W, b]
        return out

    @property
    def num_parameters(self) -> int:
        return sum(W.size + b.size for W, b in zip(self.W, self.b, strict=True))

    def forward(self, X: Array, dtype: type | None = None) -> tuple[list[Array], list[Array]]:
        """All pre-activations and activations (hidden f; output layer returns z, a = out(z)).

        With `dtype` (np.float32) the pass runs in that precision, weights cast for it: for
        pictures quantized to 8 bits, where float32's 7 digits are plenty and wide layers run
        several times faster. Training and every number shown as a number stay float64."""
        zs, as_ = [], []
        a = X if dtype is None else X.astype(dtype, copy=False)
        Ws = self.W if dtype is None else [W.astype(dtype) for W in self.W]
        bs = self.b if dtype is None else [b.astype(dtype) for b in self.b]
        f = self.act.output
        last = len(self.W) - 1
        for l in range(last + 1):
            z = a @ Ws[l] + bs[l]
            a = f(z) if l < last else self._out_fn(z)
            zs.append(z)
            as_.append(a)
        return zs, as_

    def predict(self, X: Array) -> Array:
        return self.forward(X)[1][-1]

    def output(self, X: Array, dtype: type = np.float32) -> Array:
        """The output layer's activations only, as forward()'s last, in `dtype` (see forward):
        nothing else kept, each layer's sum formed in place, for pictures of the output.

        Worked transposed, a neuron a row (zᵀ = Wᵀ aᵀ + b): a picture has ten thousand points and
        a layer a few neurons, and adding the bias along rows of ten thousand is several times
        faster than along rows of a few."""
        a = X.T.astype(dtype)
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = W.T.astype(dtype) @ a
            z += b.astype(dtype)[:, None]
            if l == last and self._out_act is None:  # softmax over each point's classes
                return self._out_fn(z.T)
            f = self.act.output if l < last else self._out_fn
            # In place where f is a NumPy ufunc (tanh, sin): no new picture-sized array a layer.
            a = f(z, out=z) if isinstance(f, np.ufunc) else f(z)
        return a.T

    def backward(
        self, X: Array, zs: list[Array], as_: list[Array], dz_out: Array
    ) -> tuple[list[Array], list[Array], list[Array]]:
        """(dz, dW, db) for every layer from dL/dz of the output layer (data loss only)."""
        L = len(self.W)
        dzs: list[Array] = [None] * L  # type: ignore[list-item]
        dWs: list[Array] = [None] * L  # type: ignore[list-item]
        dbs: list[Array] = [None] * L  # type: ignore[list-item]
        dz = dz_out
        der = self.act.der
        for l in range(L - 1, -1, -1):
            a_prev = as_[l - 1] if l > 0 else X
            dzs[l] = dz
            dWs[l] = a_prev.T @ dz
            dbs[l] = np.add.reduce(dz, axis=0)
            if l > 0:
                dz = (dz @ self.W[l].T) * der(zs[l - 1], as_[l - 1])
        return dzs, dWs, dbs

    def loss_and_grads(
        self, X: Array, t: Array, loss: str, regularization: str = "none", reg_rate: float = 0.0
    ) -> Trace:
        """Forward, loss, backward, plus rate·r'(W) in dW: everything one update needs."""
        zs, as_ = self.forward(X)
        value, dz_out, _ = losses.LOSSES[loss].value_and_grad(zs[-1], t, self._out_act, as_[-1])
        dzs, dWs, dbs = self.backward(X, zs, as_, dz_out)
        if regularization != "none" and reg_rate:
            reg = regularizers.get(regularization)
            dWs = [dW + reg_rate * reg.der(W) for dW, W in zip(dWs, self.W, strict=True)]
        return Trace(X, zs, as_, value, dzs, dWs, dbs)

    def penalty(self, regularization: str, reg_rate: float) -> float:
        """rate · Σ r(W) over all weight matrices (biases are not regularized)."""
        if regularization == "none" or not reg_rate:
            return 0.0
        reg = regularizers.get(regularization)
        return reg_rate * sum(reg.output(W) for W in self.W)
