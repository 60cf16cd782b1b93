"""Learning-rate schedules in torch.optim.lr_scheduler's closed forms, for any array of base rates.

t counts the scheduler steps taken before an optimizer step (0 for the first update), γ₀ is
the base learning rate (a float or an array, e.g. shape (P, 1) for a sweep):

- ``none``         γ_t = γ₀
- ``step``         γ_t = γ₀ · gamma^⌊t / step_size⌋                      (StepLR)
- ``exponential``  γ_t = γ₀ · gamma^t                                   (ExponentialLR)
- ``cosine``       γ_t = η_min + (γ₀ − η_min) (1 + cos(π t / T_max)) / 2  (CosineAnnealingLR)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Scalar = float | np.ndarray


@dataclass(frozen=True)
class Schedule:
    name: str
    # Parameter name → (default, lowest, highest), torch's names.
    param_specs: dict[str, tuple[float, float, float]]
    rate: Callable[..., Scalar]


def _none(lr0: Scalar, t: int) -> Scalar:
    return lr0


def _step(lr0: Scalar, t: int, step_size: float = 100, gamma: float = 0.5) -> Scalar:
    return lr0 * gamma ** (t // int(step_size))


def _exponential(lr0: Scalar, t: int, gamma: float = 0.99) -> Scalar:
    return lr0 * gamma**t


def _cosine(lr0: Scalar, t: int, T_max: float = 200, eta_min: float = 0.0) -> Scalar:
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


SCHEDULES: dict[str, Schedule] = {
    s.name: s
    for s in [
        Schedule("none", {}, _none),
        Schedule("step", {"step_size": (100, 1, 1e6), "gamma": (0.5, 0.0, 1.0)}, _step),
        Schedule("exponential", {"gamma": (0.99, 0.0, 1.0)}, _exponential),
        Schedule("cosine", {"T_max": (200, 1, 1e6), "eta_min": (0.0, 0.0, 10.0)}, _cosine),
    ]
}


def check(name: str, params: dict[str, Any]) -> None:
    """Raise KeyError/ValueError naming what is wrong with a schedule and its parameters."""
    if name not in SCHEDULES:
        raise KeyError(f"unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    specs = SCHEDULES[name].param_specs
    unknown = set(params) - set(specs)
    if unknown:
        takes = sorted(specs) or "none"
        raise KeyError(f"schedule {name} has no parameter(s) {sorted(unknown)}; it takes {takes}")
    for k, v in params.items():
        _, lo, hi = specs[k]
        if not (lo <= v <= hi):
            raise ValueError(f"schedule {name}: {k} must be between {lo:g} and {hi:g}, got {v}")


def lr_at(name: str, lr0: Scalar, t: int, **params: Any) -> Scalar:
    """The learning rate for update number t + 1 (t = 0, 1, ...)."""
    return SCHEDULES[name].rate(np.asarray(lr0, dtype=np.float64) if isinstance(lr0, np.ndarray) else lr0,
                                t, **params)
