"""Optimizers with explicit state, following torch.optim's documented update rules and names.

Each optimizer holds a list of parameter arrays (any shapes) and updates them in place from a
list of gradients of the same shapes. Because every rule is elementwise, one optimizer can
drive many independent runs at once: the optimizer lab stacks P start points as a (P, 2)
array, and a learning rate may be an array broadcastable to the parameter (a sweep).

Notation: θ parameter, g gradient, t the step count starting at 1, γ learning rate, λ weight
decay (g ← g + λθ first, as torch does).

- ``sgd``       θ ← θ − γ g
- ``momentum``  b ← μ b + (1 − τ) g  (b = g at t = 1);  θ ← θ − γ b
- ``nesterov``  as momentum, then θ ← θ − γ (g + μ b)
- ``adagrad``   s ← s + g²;  θ ← θ − γ̃ g / (√s + ε),  γ̃ = γ / (1 + (t − 1) η_decay)
- ``rmsprop``   v ← α v + (1 − α) g²;  (centered: ḡ ← α ḡ + (1 − α) g, v̂ = v − ḡ²)
                θ ← θ − γ g / (√v̂ + ε)   (with momentum μ > 0: b ← μ b + g / (√v̂ + ε),
                θ ← θ − γ b)
- ``adam``      m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
                m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ)  (amsgrad: v̂ from max of all v);
                θ ← θ − γ m̂ / (√v̂ + ε)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

Array = np.ndarray
Scalar = float | Array


@dataclass
class Optimizer:
    """Base: `step(grads)` updates `params` in place; `state` holds named arrays per param."""

    params: list[Array]
    lr: Scalar = 0.01
    weight_decay: float = 0.0
    t: int = 0
    state: list[dict[str, Array]] = field(default_factory=list)

    name: ClassVar[str] = ""
    # Hyperparameters the API exposes, with torch.optim's defaults.
    defaults: ClassVar[dict[str, Any]] = {}
    state_names: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.state = [{k: np.zeros_like(p) for k in self.state_names} for p in self.params]

    def hyperparameters(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.defaults}

    def set(self, **hparams: Any) -> None:
        """Change hyperparameters mid-run; state (velocities, accumulators) is kept."""
        for k, v in hparams.items():
            if k not in self.defaults:
                raise KeyError(f"{self.name} has no hyperparameter {k!r}; it has {sorted(self.defaults)}")
            setattr(self, k, v)

    def step(self, grads: list[Array]) -> None:
        self.t += 1
        wd = self.weight_decay
        for p, g, s in zip(self.params, grads, self.state, strict=True):
            self._update(p, g + wd * p if wd else g, s)

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        raise NotImplementedError


@dataclass
class SGD(Optimizer):
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False

    name: ClassVar[str] = "sgd"
    defaults: ClassVar[dict[str, Any]] = {"lr": 0.01, "weight_decay": 0.0}
    state_names: ClassVar[tuple[str, ...]] = ("momentum_buffer",)

    def step(self, grads: list[Array]) -> None:
        if self.momentum or self.weight_decay:
            return super().step(grads)
        # Plain gradient descent: the hot loop of most lab runs, kept free of per-parameter calls.
        self.t += 1
        lr = self.lr
        for p, g in zip(self.params, grads, strict=True):
            p -= lr * g
        return None

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        if self.momentum:
            b = s["momentum_buffer"]
            if self.t == 1:
                b[...] = g
            else:
                b *= self.momentum
                b += (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g


@dataclass
class Momentum(SGD):
    momentum: float = 0.9
    name: ClassVar[str] = "momentum"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 0.01, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
    }


@dataclass
class Nesterov(SGD):
    momentum: float = 0.9
    nesterov: bool = True
    name: ClassVar[str] = "nesterov"
    defaults: ClassVar[dict[str, Any]] = {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0}


@dataclass
class Adagrad(Optimizer):
    lr_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10

    name: ClassVar[str] = "adagrad"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0,
        "initial_accumulator_value": 0.0, "eps": 1e-10,
    }
    state_names: ClassVar[tuple[str, ...]] = ("sum",)

    def __post_init__(self) -> None:
        super().__post_init__()
        for s in self.state:
            s["sum"] += self.initial_accumulator_value

    def decayed_lr(self) -> Scalar:
        """γ_t = γ / (1 + (t − 1)·lr_decay), the rate of the latest update (torch's clr)."""
        return self.lr / (1.0 + (self.t - 1) * self.lr_decay)

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        s["sum"] += g * g
        p -= self.decayed_lr() * g / (np.sqrt(s["sum"]) + self.eps)


@dataclass
class RMSprop(Optimizer):
    alpha: float = 0.99
    eps: float = 1e-8
    momentum: float = 0.0
    centered: bool = False

    name: ClassVar[str] = "rmsprop"
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
        "momentum": 0.0, "centered": False,
    }
    state_names: ClassVar[tuple[str, ...]] = ("square_avg", "grad_avg", "momentum_buffer")

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        v = s["square_avg"]
        v *= self.alpha
        v += (1.0 - self.alpha) * g * g
        if self.centered:
            ga = s["grad_avg"]
            ga *= self.alpha
            ga += (1.0 - self.alpha) * g
            denom = np.sqrt(v - ga * ga) + self.eps
        else:
            denom = np.sqrt(v) + self.eps
        if self.momentum > 0:
            b = s["momentum_buffer"]
            b *= self.momentum
            b += g / denom
            p -= self.lr * b
        else:
            p -= self.lr * g / denom


@dataclass
class Adam(Optimizer):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    amsgrad: bool = False

    name: ClassVar[str] = "adam"
    # torch names the pair `betas=(β₁, β₂)`; the API takes them as beta1 and beta2.
    defaults: ClassVar[dict[str, Any]] = {
        "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
        "weight_decay": 0.0, "amsgrad": False,
    }
    state_names: ClassVar[tuple[str, ...]] = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _update(self, p: Array, g: Array, s: dict[str, Array]) -> None:
        m, v = s["exp_avg"], s["exp_avg_sq"]
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        bc1 = 1.0 - self.beta1**self.t
        bc2 = 1.0 - self.beta2**self.t
        if self.amsgrad:
            vmax = s["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        p -= self.lr * (m / bc1) / (np.sqrt(v / bc2) + self.eps)


# Allowed values of each numeric hyperparameter: (low, high, high excluded). Outside them a
# rule stops making sense (β ≥ 1 never forgets; a negative decay divides by zero).
RANGES: dict[str, tuple[float, float, bool]] = {
    "momentum": (0.0, 1.0, True), "dampening": (0.0, 1.0, False), "weight_decay": (0.0, 10.0, False),
    "lr_decay": (0.0, 10.0, False), "initial_accumulator_value": (0.0, 100.0, False),
    "eps": (0.0, 1.0, False), "alpha": (0.0, 1.0, False), "beta1": (0.0, 1.0, True),
    "beta2": (0.0, 1.0, True),
}


def check_hyperparameters(name: str, hparams: dict[str, Any]) -> None:
    """ValueError naming the first hyperparameter of optimizer `name` that is unknown, of the
    wrong kind (flags are true/false) or out of its range; lr is checked by the caller."""
    defaults = OPTIMIZERS[name].defaults
    for k, v in hparams.items():
        if k not in defaults or k == "lr":
            raise ValueError(
                f"optimizer {name!r} has no hyperparameter {k!r}; it takes lr and "
                f"{sorted(set(defaults) - {'lr'})}"
            )
        if isinstance(defaults[k], bool):
            if not isinstance(v, bool):
                raise ValueError(f"{name}: {k} is true or false, got {v!r}")
            continue
        check_range(name, k, v, RANGES[k])


def check_range(owner: str, key: str, value: Any, bounds: tuple[float, float, bool]) -> None:
    """ValueError unless `value` is a number within (low, high, high excluded)."""
    lo, hi, open_hi = bounds
    if isinstance(value, bool) or not (lo <= value < hi if open_hi else lo <= value <= hi):
        top = f"below {hi:g}" if open_hi else f"at most {hi:g}"
        raise ValueError(f"{owner}: {key} must be at least {lo:g} and {top}, got {value!r}")


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in [SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam]
}


def make(name: str, params: list[Array], **hparams: Any) -> Optimizer:
    """Build optimizer `name` over `params`; unknown names or hyperparameters raise KeyError."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise KeyError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}") from None
    unknown = set(hparams) - set(cls.defaults)
    if unknown:
        raise KeyError(f"{name} has no hyperparameter(s) {sorted(unknown)}; it has {sorted(cls.defaults)}")
    return cls(params=params, **hparams)
