"""Optimizer paths on a surface: many optimizers × start points, stepped together, with stopping rules.

A *run* is one optimizer (with its hyperparameters and learning-rate schedule) from one start
point. A `Race` stacks every run that shares an optimizer kind, hyperparameters other than lr
and schedule into one group: one (P, 2) block of the parameter array θ (all runs, shape
(R, 2)) driven by one engine optimizer whose learning rate is an array of shape (P, 1). The
surface's value and gradient are computed for all R runs at once. A run that stops is frozen
(its row restored after each update), never removed, so shapes stay fixed.

Stop reasons, checked after every update in this order:
- ``diverged``        θ, f(θ) or ∇f(θ) not finite, or |θ| beyond `diverge_bound`; the run
                      stays at its last finite point (so paths never hold NaN);
- ``escaped``         on a surface unbounded below (no minimum, e.g. the saddle): θ left the
                      plotted window with f below its start value, so the run found the way
                      down and off the picture (its last point is the first one outside);
- ``gradient_norm``   ‖∇f(θ_k)‖ < grad_tol (also checked at the start point);
- ``loss_change``     |f(θ_k) − f(θ_{k−1})| < loss_tol;
- ``early_stopping``  validation loss not below its best for `patience` updates (surfaces
                      with data only); `best_step` says where it was lowest;
- ``max_iterations``  k = max_iterations.
A tolerance of 0 (patience 0) turns a rule off.

Every run also measures its path: `path_length` Σ ‖θ_k − θ_(k−1)‖ and `reversals`, the updates
whose step turns back on the previous one (θ_k − θ_(k−1))·(θ_(k−1) − θ_(k−2)) < 0: the
zig-zag of GD across a ravine counts one a step, a straight walk none.

Optimizer internals, for the current point of every run (NaN where a kind has none):
- ``grad``         ∇f(θ_k), the full-batch gradient;
- ``velocity``     the momentum term of the step: b (momentum, Nesterov, RMSProp with
                   momentum) or m̂ = m / (1 − β₁ᵗ) (Adam);
- ``accumulator``  the squared-gradient average per coordinate: s (AdaGrad), v or v − ḡ²
                   (RMSProp), v̂ = v / (1 − β₂ᵗ) (Adam);
- ``scale``        each coordinate's step size γ_t / (√accumulator + ε).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import optimizers, schedules
from engine.surfaces import Surface

Array = np.ndarray

# Lab optimizer name → (engine optimizer, hyperparameters the lab adds, with defaults).
# "gd" is full-batch; "sgd" gets a noisy gradient: a real mini-batch of `batch_size` points on
# a surface with data, ∇f + noise · N(0, I) on an analytic one.
KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "gd": ("sgd", {}),
    "sgd": ("sgd", {"noise": 1.0, "batch_size": 10}),
    "momentum": ("momentum", {}),
    "nesterov": ("nesterov", {}),
    "adagrad": ("adagrad", {}),
    "rmsprop": ("rmsprop", {}),
    "adam": ("adam", {}),
}
# Allowed values (lowest, highest, whether the highest is excluded), as torch.optim checks them.
HYPER_RANGES: dict[str, tuple[float, float, bool]] = {
    **optimizers.RANGES, "noise": (0.0, 100.0, False), "batch_size": (1.0, 10_000.0, False),
}
STOP_REASONS = ("diverged", "escaped", "gradient_norm", "loss_change", "early_stopping", "max_iterations")
INTERNALS = ("grad", "velocity", "accumulator", "scale")


def hyperparameter_defaults(kind: str) -> dict[str, Any]:
    """Every hyperparameter of a lab optimizer kind with its default (torch's names and values)."""
    engine_name, extra = KINDS[kind]
    return {**optimizers.OPTIMIZERS[engine_name].defaults, **extra}


@dataclass(frozen=True)
class RunSpec:
    """One optimizer from one start point. `hyperparameters` excludes lr (sorted pairs)."""

    optimizer: str
    start: tuple[float, float]
    lr: float
    hyperparameters: tuple[tuple[str, Any], ...] = ()
    schedule: str = "none"
    schedule_params: tuple[tuple[str, float], ...] = ()

    def check(self) -> None:
        if self.optimizer not in KINDS:
            raise KeyError(f"unknown optimizer {self.optimizer!r}; choose one of {sorted(KINDS)}")
        if not (self.lr >= 0 and np.isfinite(self.lr)):
            raise ValueError(f"learning rate must be a finite number ≥ 0, got {self.lr}")
        allowed = set(hyperparameter_defaults(self.optimizer)) - {"lr"}
        unknown = {k for k, _ in self.hyperparameters} - allowed
        if unknown:
            raise KeyError(f"{self.optimizer} has no hyperparameter(s) {sorted(unknown)}; "
                           f"it takes lr and {sorted(allowed)}")
        for k, v in self.hyperparameters:
            kind = type(hyperparameter_defaults(self.optimizer)[k])
            if kind is bool:
                if not isinstance(v, bool | int) or v not in (0, 1):
                    raise ValueError(f"{self.optimizer}: {k} must be true or false, got {v!r}")
                continue
            optimizers.check_range(self.optimizer, k, v, HYPER_RANGES[k])
        schedules.check(self.schedule, dict(self.schedule_params))


@dataclass(frozen=True)
class StopRules:
    max_iterations: int = 500
    grad_tol: float = 0.0
    loss_tol: float = 0.0
    patience: int = 0
    diverge_bound: float | None = None  # default: 1000 × the surface's plotting window


@dataclass
class _Group:
    rows: slice
    kind: str
    extra: dict[str, Any]
    opt: optimizers.Optimizer
    lr0: Array  # (P, 1)
    schedule: str
    schedule_params: dict[str, float]


@dataclass
class Race:
    """Runs `runs` on `surface` together; `step(n)` advances every active run by n updates."""

    surface: Surface
    runs: list[RunSpec]
    stop: StopRules = field(default_factory=StopRules)
    seed: int = 0
    record_internals: bool = False

    def __post_init__(self) -> None:
        for r in self.runs:
            r.check()
        bound = self.stop.diverge_bound
        self.bound = bound if bound is not None else 1000.0 * float(np.max(np.abs(self.surface.domain)))
        self.reset()

    # ------------------------------------------------------------------ set-up
    def reset(self) -> None:
        """Back to the start points, fresh optimizer state and random stream."""
        R = len(self.runs)
        keys = [self._group_key(r) for r in self.runs]
        order = sorted(range(R), key=lambda i: (list(dict.fromkeys(keys)).index(keys[i]), i))
        self.row = np.empty(R, dtype=int)  # run index → row of θ
        self.row[order] = np.arange(R)
        self.theta = np.array([self.runs[i].start for i in order], dtype=np.float64).reshape(R, 2)
        self.groups: list[_Group] = []
        i = 0
        while i < R:
            j = i
            while j < R and keys[order[j]] == keys[order[i]]:
                j += 1
            spec = self.runs[order[i]]
            engine_name, extra_defaults = KINDS[spec.optimizer]
            defaults = hyperparameter_defaults(spec.optimizer)
            hp = {k: bool(v) if type(defaults[k]) is bool else v for k, v in spec.hyperparameters}
            extra = {k: hp.pop(k, v) for k, v in extra_defaults.items()}
            lr0 = np.array([self.runs[order[k]].lr for k in range(i, j)], dtype=np.float64)[:, None]
            opt = optimizers.make(engine_name, [self.theta[i:j]], lr=lr0.copy(), **hp)
            self.groups.append(_Group(slice(i, j), spec.optimizer, extra, opt, lr0, spec.schedule,
                                      dict(spec.schedule_params)))
            i = j
        self.rng = np.random.default_rng(self.seed)
        self.t = 0
        with np.errstate(all="ignore"):
            self.loss = self.surface.value(self.theta)
            self.grad = self.surface.grad(self.theta)
            val = self.surface.validation_loss(self.theta)
        self.has_validation = val is not None
        self.val = val if val is not None else np.full(R, np.nan)
        self.best_val = self.val.copy()
        self.best_step = np.zeros(R, dtype=int)
        self.active = np.ones(R, dtype=bool)
        self.steps = np.zeros(R, dtype=int)  # updates each run made
        self.reason: list[str | None] = [None] * R  # per row
        self.path_length = np.zeros(R)
        self.reversals = np.zeros(R, dtype=int)
        self._last_step = np.zeros((R, 2))
        self._start_loss = self.loss.copy()
        bad = ~(np.isfinite(self.theta).all(1) & np.isfinite(self.loss) & np.isfinite(self.grad).all(1))
        self._stop(bad, "diverged")
        if self.stop.grad_tol > 0:
            self._stop(np.linalg.norm(self.grad, axis=1) < self.stop.grad_tol, "gradient_norm")
        if self.stop.max_iterations == 0:
            self._stop(self.active.copy(), "max_iterations")
        self._hist: dict[str, list[Array]] = {"path": [], "loss": [], "val": []}
        if self.record_internals:
            self._hist.update({k: [] for k in INTERNALS})
        self._record()

    @staticmethod
    def _group_key(r: RunSpec) -> tuple[Any, ...]:
        return (r.optimizer, tuple(sorted(r.hyperparameters)), r.schedule, tuple(sorted(r.schedule_params)))

    # ------------------------------------------------------------------ stepping
    @property
    def done(self) -> bool:
        return not self.active.any()

    def step(self, n: int = 1) -> int:
        """Up to n updates of every active run; returns how many iterations ran."""
        ran = 0
        with np.errstate(all="ignore"):
            while ran < n and not self.done:
                self._update()
                ran += 1
        return ran

    def _update(self) -> None:
        prev, prev_loss, prev_grad = self.theta.copy(), self.loss, self.grad
        for g in self.groups:
            if not self.active[g.rows].any():
                continue
            if g.kind == "sgd":
                grad = self.surface.stochastic_grad(self.theta[g.rows], self.rng, **g.extra)
            else:
                grad = prev_grad[g.rows]
            g.opt.lr = schedules.lr_at(g.schedule, g.lr0, self.t, **g.schedule_params)
            g.opt.step([grad])  # updates the view self.theta[g.rows] in place
        self.t += 1
        k = self.t
        frozen = ~self.active
        self.theta[frozen] = prev[frozen]
        loss, grad = self.surface.value(self.theta), self.surface.grad(self.theta)
        bad = self.active & ~(np.isfinite(self.theta).all(1) & (np.abs(self.theta).max(1) <= self.bound)
                              & np.isfinite(loss) & np.isfinite(grad).all(1))
        self.theta[bad] = prev[bad]
        loss[bad], grad[bad] = prev_loss[bad], prev_grad[bad]
        loss[frozen], grad[frozen] = prev_loss[frozen], prev_grad[frozen]
        self.loss, self.grad = loss, grad
        self._stop(bad, "diverged")
        self._measure(prev)
        if not self.surface.minima:
            (x0, x1), (y0, y1) = self.surface.domain
            x, y = self.theta[:, 0], self.theta[:, 1]
            outside = (x < x0) | (x > x1) | (y < y0) | (y > y1)
            self._stop(outside & (loss < self._start_loss), "escaped")
        self.steps[self.active] = k
        if self.has_validation:
            val = self.surface.validation_loss(self.theta)
            self.val = np.where(self.active, val, self.val)
            better = self.active & (self.val < self.best_val)
            self.best_val[better] = self.val[better]
            self.best_step[better] = k
        s = self.stop
        if s.grad_tol > 0:
            self._stop(np.linalg.norm(grad, axis=1) < s.grad_tol, "gradient_norm")
        if s.loss_tol > 0:
            self._stop(np.abs(loss - prev_loss) < s.loss_tol, "loss_change")
        if s.patience > 0 and self.has_validation:
            self._stop(k - self.best_step >= s.patience, "early_stopping")
        if k >= s.max_iterations:
            self._stop(self.active.copy(), "max_iterations")
        self._record()

    def _measure(self, prev: Array) -> None:
        """Add the last update's step to each moving run's path length and reversals."""
        step = np.where(self.active[:, None], self.theta - prev, 0.0)
        self.path_length += np.linalg.norm(step, axis=1)
        self.reversals += np.einsum("ij,ij->i", step, self._last_step) < 0
        self._last_step = np.where(self.active[:, None], step, self._last_step)

    def _stop(self, rows: Array, reason: str) -> None:
        for i in np.flatnonzero(rows & self.active):
            self.reason[i] = reason
        self.active &= ~rows

    def _record(self) -> None:
        h = self._hist
        h["path"].append(self.theta.copy())
        h["loss"].append(self.loss.copy())
        h["val"].append(self.val.copy())
        if self.record_internals:
            for k, v in self.internals().items():
                h[k].append(v)

    # ------------------------------------------------------------------ reading
    def internals(self) -> dict[str, Array]:
        """Current grad, velocity, accumulator, scale per row, each (R, 2); NaN where none."""
        R = len(self.runs)
        vel, acc, scale = (np.full((R, 2), np.nan) for _ in range(3))
        for g in self.groups:
            o, st, rows = g.opt, g.opt.state[0], g.rows
            if o.t == 0:
                continue
            if isinstance(o, optimizers.SGD) and o.momentum:
                vel[rows] = st["momentum_buffer"]
            elif isinstance(o, optimizers.Adagrad):
                acc[rows] = st["sum"]
                scale[rows] = o.decayed_lr() / (np.sqrt(st["sum"]) + o.eps)
            elif isinstance(o, optimizers.RMSprop):
                v = st["square_avg"] - (st["grad_avg"] ** 2 if o.centered else 0.0)
                acc[rows] = v
                scale[rows] = o.lr / (np.sqrt(v) + o.eps)
                if o.momentum > 0:
                    vel[rows] = st["momentum_buffer"]
            elif isinstance(o, optimizers.Adam):
                bc1, bc2 = 1 - o.beta1**o.t, 1 - o.beta2**o.t
                v = (st["max_exp_avg_sq"] if o.amsgrad else st["exp_avg_sq"]) / bc2
                vel[rows] = st["exp_avg"] / bc1
                acc[rows] = v
                scale[rows] = o.lr / (np.sqrt(v) + o.eps)
        return {"grad": self.grad.copy(), "velocity": vel, "accumulator": acc, "scale": scale}

    def lr_now(self) -> Array:
        """The learning rate each run uses for its next update, (R,) in row order."""
        out = np.empty(len(self.runs))
        for g in self.groups:
            out[g.rows] = np.ravel(schedules.lr_at(g.schedule, g.lr0, self.t, **g.schedule_params))
        return out

    def history(self, name: str, first: int = 0, last: int | None = None) -> Array:
        """Recorded `name` ("path", "loss", "val" or an internal) for iterations first … last,
        shape (n, R, ...) in row order."""
        return np.stack(self._hist[name][first: None if last is None else last + 1])

    def run_history(self, run: int, name: str) -> Array:
        """One run's history up to where it stopped: (steps + 1, ...)."""
        i = self.row[run]
        return np.stack([a[i] for a in self._hist[name][: self.steps[i] + 1]])

    def status(self, run: int) -> dict[str, Any]:
        """Why and when run `run` stopped (reason None while still running)."""
        i = self.row[run]
        return {
            "stop_reason": self.reason[i],
            "steps": int(self.steps[i]),
            "point": self.theta[i].tolist(),
            "loss": float(self.loss[i]),
            "grad_norm": float(np.linalg.norm(self.grad[i])),
            "path_length": float(self.path_length[i]),
            "reversals": int(self.reversals[i]),
            "val_loss": float(self.val[i]) if self.has_validation else None,
            "best_step": int(self.best_step[i]) if self.has_validation else None,
        }


def run(surface: Surface, runs: list[RunSpec], stop: StopRules | None = None, seed: int = 0,
        record_internals: bool = False) -> Race:
    """A race stepped until every run stopped."""
    race = Race(surface, runs, stop or StopRules(), seed, record_internals)
    race.step(race.stop.max_iterations)
    return race
