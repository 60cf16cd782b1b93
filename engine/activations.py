"""Activation functions, each beside its derivative, in a registry keyed by API/URL name.

Every entry maps pre-activation z (any shape) to a = f(z) and gives f'(z) elementwise.
`der` receives both z and the already computed a = f(z), so functions whose derivative is
cheapest in terms of the output (sigmoid, tanh) do not recompute it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """A function/derivative pair: `output(z)` = f(z), `der(z, a)` = f'(z) with a = f(z)."""

    name: str
    label: str
    output: Callable[[Array], Array]
    der: Callable[[Array, Array], Array]


def _sigmoid(z: Array) -> Array:
    # Split by sign so exp never overflows: for z < 0 use e^z / (1 + e^z).
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^-z), computed without overflow."""
    return _sigmoid(np.asarray(z, dtype=np.float64))


def _softplus(z: Array) -> Array:
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_LEAKY_SLOPE = 0.01


def _gelu(z: Array) -> Array:
    # tanh approximation (Hendrycks & Gimpel), as torch.nn.GELU(approximate="tanh").
    return 0.5 * z * (1.0 + np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3)))


def _gelu_der(z: Array, a: Array) -> Array:
    u = _SQRT_2_OVER_PI * (z + 0.044715 * z**3)
    t = np.tanh(u)
    du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z**2)
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("linear", "Linear", lambda z: z, lambda z, a: np.ones_like(z)),
        Activation("sigmoid", "Sigmoid", sigmoid, lambda z, a: a * (1.0 - a)),
        Activation("tanh", "Tanh", np.tanh, lambda z, a: 1.0 - a * a),
        Activation(
            "relu", "ReLU", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(np.float64)
        ),
        Activation(
            "leaky_relu",
            "Leaky ReLU",
            lambda z: np.where(z > 0, z, _LEAKY_SLOPE * z),
            lambda z, a: np.where(z > 0, 1.0, _LEAKY_SLOPE),
        ),
        Activation(
            "elu",
            "ELU",
            lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
            lambda z, a: np.where(z > 0, 1.0, a + 1.0),
        ),
        Activation("softplus", "Softplus", _softplus, lambda z, a: sigmoid(z)),
        Activation("gelu", "GELU", _gelu, _gelu_der),
        Activation("sine", "Sine", np.sin, lambda z, a: np.cos(z)),
    ]
}


def get(name: str) -> Activation:
    """Look an activation up by its registry name; KeyError names the allowed ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
