"""Batch normalization (Ioffe & Szegedy 2015) over features (N, F) or channels (N, C, H, W).

Per feature/channel c, over the m values it has in a batch (m = N, or N·H·W for maps):
    train: μ = mean x, σ² = mean (x − μ)² (biased), x̂ = (x − μ) / √(σ² + ε), out = γ x̂ + β;
           running_mean ← (1 − α) running_mean + α μ,
           running_var  ← (1 − α) running_var + α σ² · m / (m − 1)   (unbiased, as torch; α = 0.1)
    eval:  x̂ = (x − running_mean) / √(running_var + ε).
Backward in training (μ and σ² depend on x):
    dγ = Σ dout ⊙ x̂,  dβ = Σ dout,  dx = γ / (m √(σ² + ε)) · (m·dout − Σ dout − x̂ Σ dout ⊙ x̂);
in eval the statistics are constants: dx = γ dout / √(running_var + ε).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.nn.layer import Array, Layer, Shape


class BatchNorm(Layer):
    kind = "batchnorm"

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        if num_features < 1:
            raise ValueError("batchnorm needs at least one feature")
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.params = {"gamma": np.ones(num_features), "beta": np.zeros(num_features)}
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self._cache: tuple | None = None
        self.batch_mean: Array | None = None  # μ and σ² of the last training batch
        self.batch_var: Array | None = None

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) not in (1, 3) or in_shape[0] != self.num_features:
            raise ValueError(f"normalizes {self.num_features} features (F,) or channels (C, H, W), "
                             f"got shape {tuple(in_shape)}")
        return tuple(in_shape)

    @staticmethod
    def _axes_and_view(x: Array) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Reduction axes and the shape that broadcasts a per-channel vector against x."""
        if x.ndim == 2:
            return (0,), (1, -1)
        return (0, 2, 3), (1, -1, 1, 1)

    def forward(self, x: Array, train: bool = False) -> Array:
        axes, view = self._axes_and_view(x)
        gamma, beta = self.params["gamma"].reshape(view), self.params["beta"].reshape(view)
        if train:
            m = x.size // x.shape[1]
            mu = x.mean(axis=axes)
            var = x.var(axis=axes)
            a = self.momentum
            self.running_mean = (1 - a) * self.running_mean + a * mu
            self.running_var = (1 - a) * self.running_var + a * var * (m / max(m - 1, 1))
            self.batch_mean, self.batch_var = mu, var
        else:
            mu, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mu.reshape(view)) * inv_std.reshape(view)
        self._cache = (xhat, inv_std, axes, view, train)
        return gamma * xhat + beta

    def backward(self, dout: Array) -> Array:
        xhat, inv_std, axes, view, train = self._cache
        gamma = self.params["gamma"]
        self.grads = {"gamma": (dout * xhat).sum(axis=axes), "beta": dout.sum(axis=axes)}
        scale = (gamma * inv_std).reshape(view)
        if not train:
            return dout * scale
        m = dout.size // dout.shape[1]
        dsum = self.grads["beta"].reshape(view)
        dxsum = self.grads["gamma"].reshape(view)
        return scale / m * (m * dout - dsum - xhat * dxsum)

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}

    def details(self) -> dict[str, Array]:
        out = {"running_mean": self.running_mean, "running_var": self.running_var}
        if self.batch_mean is not None:
            out |= {"batch_mean": self.batch_mean, "batch_var": self.batch_var}
        return out

    def describe(self) -> str:
        return f"batchnorm {self.num_features}"
