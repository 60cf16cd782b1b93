"""Weight initializers, in a registry keyed by API name.

Called as `init(n_in, n_out, rng)` an initializer returns (W of shape (n_in, n_out), b of
shape (n_out,)), the layout of `engine/mlp.py` (z = x W + b). `init.kernel((D, C, kh, kw), rng)`
returns a convolution's (w, b) with fan_in = C·kh·kw and fan_out = D·kh·kw, as torch counts
them.

- ``tf_uniform``: W ~ U(−0.5, 0.5), b = 0.1 (the TensorFlow Playground).
- ``small_uniform``: W ~ U(−0.01, 0.01), b = 0 ("small random numbers": signals shrink with
  depth).
- ``xavier``: Glorot uniform, W ~ U(−a, a) with a = √(6 / (fan_in + fan_out)), b = 0.
- ``he``: He normal, W ~ N(0, 2 / fan_in), b = 0.
- ``orthogonal``: W with orthonormal rows or columns (torch.nn.init.orthogonal_, gain 1):
  the QR factor of a standard normal matrix, signs fixed by diag(R); b = 0.
- ``zeros``: W = 0, b = 0 (to show students why symmetry must be broken).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
# draw(n_in, n_out, fan_out, rng) → W (n_in, n_out); fan_out differs from n_out for kernels.
Draw = Callable[[int, int, int, np.random.Generator], Array]


def _tf_uniform(n_in: int, n_out: int, fan_out: int, rng: np.random.Generator) -> Array:
    return rng.uniform(-0.5, 0.5, size=(n_in, n_out))


def _small_uniform(n_in: int, n_out: int, fan_out: int, rng: np.random.Generator) -> Array:
    return rng.uniform(-0.01, 0.01, size=(n_in, n_out))


def _xavier(n_in: int, n_out: int, fan_out: int, rng: np.random.Generator) -> Array:
    a = np.sqrt(6.0 / (n_in + fan_out))
    return rng.uniform(-a, a, size=(n_in, n_out))


def _he(n_in: int, n_out: int, fan_out: int, rng: np.random.Generator) -> Array:
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


def _orthogonal(n_in: int, n_out: int, fan_out: int, rng: np.random.Generator) -> Array:
    # torch's recipe on its (out, in) weight: QR of the taller orientation, signs from diag(R).
    rows, cols = n_out, n_in
    a = rng.normal(size=(rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return np.ascontiguousarray(q.T)  # (n_in, n_out)


def _zeros(n_in: int, n_out: int, fan_out: int, rng: np.random.Generator) -> Array:
    return np.zeros((n_in, n_out))


@dataclass(frozen=True)
class Initializer:
    """A weight rule and a constant bias: `init(n_in, n_out, rng)` → (W, b)."""

    name: str
    label: str
    draw: Draw
    bias: float = 0.0

    def __call__(self, n_in: int, n_out: int, rng: np.random.Generator) -> tuple[Array, Array]:
        return self.draw(n_in, n_out, n_out, rng), np.full(n_out, self.bias)

    def kernel(self, shape: tuple[int, int, int, int], rng: np.random.Generator) -> tuple[Array, Array]:
        """(w (D, C, kh, kw), b (D,)) for a convolution: the rule applied to the kernels
        flattened to (C·kh·kw, D), with fan_out = D·kh·kw."""
        D, C, kh, kw = shape
        W = self.draw(C * kh * kw, D, D * kh * kw, rng)
        return np.ascontiguousarray(W.T.reshape(D, C, kh, kw)), np.full(D, self.bias)


INITIALIZERS: dict[str, Initializer] = {
    i.name: i
    for i in [
        Initializer("tf_uniform", "Uniform ±0.5 (TF Playground)", _tf_uniform, 0.1),
        Initializer("small_uniform", "Small uniform ±0.01", _small_uniform),
        Initializer("xavier", "Xavier / Glorot", _xavier),
        Initializer("he", "He / Kaiming", _he),
        Initializer("orthogonal", "Orthogonal", _orthogonal),
        Initializer("zeros", "Zeros", _zeros),
    ]
}

tf_uniform, small_uniform, xavier, he, orthogonal, zeros = (
    INITIALIZERS[k] for k in ("tf_uniform", "small_uniform", "xavier", "he", "orthogonal", "zeros")
)


def get(name: str) -> Initializer:
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise KeyError(
            f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}"
        ) from None
