"""Weight initializers: each returns (W of shape (n_in, n_out), b of shape (n_out,)).

- ``tf_uniform``: W ~ U(−0.5, 0.5), b = 0.1 (the TensorFlow Playground).
- ``xavier``: Glorot uniform, W ~ U(−a, a) with a = √(6 / (n_in + n_out)), b = 0.
- ``he``: He normal, W ~ N(0, 2 / n_in), b = 0.
- ``zeros``: W = 0, b = 0 (to show students why symmetry must be broken).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray
Init = Callable[[int, int, np.random.Generator], tuple[Array, Array]]


def tf_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[Array, Array]:
    return rng.uniform(-0.5, 0.5, size=(n_in, n_out)), np.full(n_out, 0.1)


def xavier(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[Array, Array]:
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, size=(n_in, n_out)), np.zeros(n_out)


def he(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[Array, Array]:
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)), np.zeros(n_out)


def zeros(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[Array, Array]:
    return np.zeros((n_in, n_out)), np.zeros(n_out)


INITIALIZERS: dict[str, Init] = {
    "tf_uniform": tf_uniform,
    "xavier": xavier,
    "he": he,
    "zeros": zeros,
}


def get(name: str) -> Init:
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise KeyError(
            f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}"
        ) from None
