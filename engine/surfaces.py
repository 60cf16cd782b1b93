"""2-D loss surfaces with analytic value and gradient, evaluated for many points at once.

Every surface maps θ of shape (P, 2) (P points, columns x and y) to a value of shape (P,)
and a gradient of shape (P, 2); no finite differences. `make(name, **params)` builds one from
the registry `SURFACES` (the names the API and URL use). The "logistic" surface is a real
loss: the mean logistic loss of a two-weight model on a dataset, where the full-batch gradient
and a mini-batch one differ, and a held-out half gives a validation loss.

| name        | f(x, y)                                                     | minimum            |
|-------------|-------------------------------------------------------------|--------------------|
| bowl        | x² + y²                                                     | (0, 0)             |
| ravine      | (x² + κ y²) / 2, κ the condition number (50 by default)     | (0, 0)             |
| rosenbrock  | (1 − x)² + 100 (y − x²)²                                    | (1, 1)             |
| beale       | (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²    | (3, 0.5)           |
| himmelblau  | (x² + y − 11)² + (x + y² − 7)²                              | four, f = 0        |
| saddle      | x² − y²                                                     | none (saddle at 0) |
| camel       | (4 − 2.1x² + x⁴/3) x² + xy + (4y² − 4) y²                   | two, f ≈ −1.0316   |
| plateau     | h σ(−k x) + c (x − 2)² + y² / 10  (a flat shelf, a cliff)   | near (2, 0)        |
| logistic    | mean log(1 + e^(−y w·x)) + λ/2 ‖w‖² over a dataset          | found by Newton    |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from engine import datasets
from engine.quantize import finite_range

Array = np.ndarray


@dataclass
class Surface:
    """Base: subclasses define `_value(x, y)` and `_grad(x, y)` on coordinate arrays."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # Plotting window ((x_lo, x_hi), (y_lo, y_hi)) and whether levels read better on a log scale.
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-2.0, 2.0), (-2.0, 2.0))
    log_scale: ClassVar[bool] = True
    # Tunable parameters: name → (default, lowest, highest).
    param_specs: ClassVar[dict[str, tuple[float, float, float]]] = {}
    # A start point that shows the surface's lesson, and learning rates (and other
    # hyperparameters, by optimizer kind) that show it: the lab's opening race.
    default_start: ClassVar[tuple[float, float]] = (-1.5, 1.5)
    suggested_lr: ClassVar[dict[str, float]] = {}
    suggested_hyperparameters: ClassVar[dict[str, dict[str, float]]] = {}
    minima: list[tuple[float, float]] = field(default_factory=list)
    saddles: list[tuple[float, float]] = field(default_factory=list)

    def value(self, theta: Array) -> Array:
        """f(θ) for θ of shape (P, 2) → (P,)."""
        theta = np.asarray(theta, dtype=np.float64)
        return self._value(theta[..., 0], theta[..., 1])

    def grad(self, theta: Array) -> Array:
        """∇f(θ) for θ of shape (P, 2) → (P, 2)."""
        theta = np.asarray(theta, dtype=np.float64)
        gx, gy = self._grad(theta[..., 0], theta[..., 1])
        return np.stack([gx, gy], axis=-1)

    def stochastic_grad(self, theta: Array, rng: np.random.Generator, batch_size: int = 10,
                        noise: float = 0.0) -> Array:
        """A noisy gradient: here ∇f(θ) + noise · N(0, I), standing in for mini-batch noise."""
        g = self.grad(theta)
        return g + noise * rng.standard_normal(g.shape) if noise else g

    def validation_loss(self, theta: Array) -> Array | None:
        """Loss on held-out data, (P,), for surfaces that have data; None otherwise."""
        return None

    def batch_cap(self, batch_size: int) -> int:
        """The mini-batch size `stochastic_grad` really draws: 0 here (no data)."""
        return 0

    def points_per_update(self, batch_size: int = 0) -> int:
        """Data points one update of one run evaluates (0 on an analytic surface): a measure of
        its cost, for work budgets."""
        return 0

    @property
    def min_value(self) -> float | None:
        """The lowest value (at the global minimum), or None when f is unbounded below."""
        return float(np.min(self.value(np.array(self.minima)))) if self.minima else None

    def params(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.param_specs}

    def grid(self, res: int) -> tuple[Array, Array, Array]:
        """(xs (res,), ys (res,), values (res, res)) with values[i, j] = f(xs[j], ys[i])."""
        (x0, x1), (y0, y1) = self.domain
        xs, ys = np.linspace(x0, x1, res), np.linspace(y0, y1, res)
        X, Y = np.meshgrid(xs, ys)
        with np.errstate(over="ignore", invalid="ignore"):
            return xs, ys, self._value(X, Y)

    def _value(self, x: Array, y: Array) -> Array:
        raise NotImplementedError

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        raise NotImplementedError


@dataclass
class Bowl(Surface):
    name: ClassVar[str] = "bowl"
    label: ClassVar[str] = "Isotropic bowl"
    log_scale: ClassVar[bool] = False
    # One curvature: momentum near critical damping (μ = (1 − √(γh))², h = 2) helps a little;
    # at μ = 0.9 it would overshoot and circle the minimum for hundreds of updates.
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.1, "sgd": 0.1, "momentum": 0.1, "nesterov": 0.1,
        "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1,
    }
    suggested_hyperparameters: ClassVar[dict[str, dict[str, float]]] = {
        "momentum": {"momentum": 0.3}, "nesterov": {"momentum": 0.3},
    }
    minima: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 0.0)])

    def _value(self, x: Array, y: Array) -> Array:
        return x * x + y * y

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        return 2 * x, 2 * y


@dataclass
class Ravine(Surface):
    """The lecture's ravine. The suggestions (for κ = 50) tell its story: GD at γ = 1.8/κ,
    near the largest stable step 2/κ, zig-zags across the valley (y ← (1 − γκ)·y = −0.8·y)
    and crawls along it (x ← 0.964·x); momentum with the same γ and μ = 0.5 damps the
    zig-zag (y shrinks by √μ ≈ 0.71 a step) and arrives in less than half the updates;
    AdaGrad, RMSProp and Adam divide each coordinate by its own gradient scale and walk
    nearly straight to the minimum."""

    condition: float = 50.0

    name: ClassVar[str] = "ravine"
    label: ClassVar[str] = "Ill-conditioned ravine"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-2.0, 2.0), (-2.0, 2.0))
    param_specs: ClassVar[dict[str, tuple[float, float, float]]] = {"condition": (50.0, 1.0, 1000.0)}
    default_start: ClassVar[tuple[float, float]] = (-1.8, 1.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.036, "sgd": 0.036, "momentum": 0.036, "nesterov": 0.036,
        "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.05,
    }
    suggested_hyperparameters: ClassVar[dict[str, dict[str, float]]] = {
        "momentum": {"momentum": 0.5}, "nesterov": {"momentum": 0.5},
    }
    minima: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 0.0)])

    def _value(self, x: Array, y: Array) -> Array:
        return 0.5 * (x * x + self.condition * y * y)

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        return x, self.condition * y


@dataclass
class Rosenbrock(Surface):
    name: ClassVar[str] = "rosenbrock"
    label: ClassVar[str] = "Rosenbrock's valley"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-2.0, 2.0), (-1.0, 3.0))
    default_start: ClassVar[tuple[float, float]] = (-1.5, 2.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.001, "sgd": 0.001, "momentum": 0.0005, "nesterov": 0.0005,
        "adagrad": 0.3, "rmsprop": 0.01, "adam": 0.05,
    }
    minima: list[tuple[float, float]] = field(default_factory=lambda: [(1.0, 1.0)])

    def _value(self, x: Array, y: Array) -> Array:
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        r = y - x * x
        return -2 * (1 - x) - 400 * x * r, 200 * r


@dataclass
class Beale(Surface):
    name: ClassVar[str] = "beale"
    label: ClassVar[str] = "Beale"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-4.5, 4.5), (-4.5, 4.5))
    default_start: ClassVar[tuple[float, float]] = (-1.0, 3.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.0001, "sgd": 0.0001, "momentum": 0.00005, "nesterov": 0.00005,
        "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05,
    }
    minima: list[tuple[float, float]] = field(default_factory=lambda: [(3.0, 0.5)])
    C: ClassVar[tuple[float, float, float]] = (1.5, 2.25, 2.625)

    def _value(self, x: Array, y: Array) -> Array:
        return sum((c - x + x * y ** (k + 1)) ** 2 for k, c in enumerate(self.C))

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        gx = np.zeros_like(x * y)
        gy = np.zeros_like(gx)
        for k, c in enumerate(self.C):
            r = c - x + x * y ** (k + 1)
            gx = gx + 2 * r * (y ** (k + 1) - 1)
            gy = gy + 2 * r * x * (k + 1) * y**k
        return gx, gy


@dataclass
class Himmelblau(Surface):
    name: ClassVar[str] = "himmelblau"
    label: ClassVar[str] = "Himmelblau (four minima)"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-5.0, 5.0), (-5.0, 5.0))
    default_start: ClassVar[tuple[float, float]] = (-0.5, 0.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.005, "sgd": 0.005, "momentum": 0.002, "nesterov": 0.002,
        "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1,
    }
    minima: list[tuple[float, float]] = field(default_factory=lambda: [
        (3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)])

    def _value(self, x: Array, y: Array) -> Array:
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        a, b = x * x + y - 11, x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


@dataclass
class Saddle(Surface):
    name: ClassVar[str] = "saddle"
    label: ClassVar[str] = "Saddle x² − y²"
    log_scale: ClassVar[bool] = False
    default_start: ClassVar[tuple[float, float]] = (-1.8, 0.001)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.05, "sgd": 0.05, "momentum": 0.02, "nesterov": 0.02,
        "adagrad": 0.2, "rmsprop": 0.02, "adam": 0.05,
    }
    saddles: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 0.0)])

    def _value(self, x: Array, y: Array) -> Array:
        return x * x - y * y

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        return 2 * x, -2 * y


@dataclass
class Camel(Surface):
    name: ClassVar[str] = "camel"
    label: ClassVar[str] = "Six-hump camel"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-2.0, 2.0), (-1.5, 1.5))
    default_start: ClassVar[tuple[float, float]] = (-1.5, -1.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.01, "sgd": 0.01, "momentum": 0.005, "nesterov": 0.005,
        "adagrad": 0.2, "rmsprop": 0.01, "adam": 0.05,
    }
    minima: list[tuple[float, float]] = field(default_factory=lambda: [
        (0.0898420131, -0.7126564030), (-0.0898420131, 0.7126564030)])

    def _value(self, x: Array, y: Array) -> Array:
        x2, y2 = x * x, y * y
        return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (4 * y2 - 4) * y2

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        x2, y2 = x * x, y * y
        return 8 * x - 8.4 * x * x2 + 2 * x2 * x2 * x + y, x + 16 * y2 * y - 8 * y


def _sigmoid(z: Array) -> Array:
    return 0.5 * (1 + np.tanh(0.5 * z))


@dataclass
class Plateau(Surface):
    """h σ(−k x) + c (x − 2)² + y²/10: nearly flat for x < 0, a cliff of slope hk/4 at x = 0."""

    height: float = 2.0
    steepness: float = 10.0

    name: ClassVar[str] = "plateau"
    label: ClassVar[str] = "Plateau with a cliff"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-4.0, 4.0), (-4.0, 4.0))
    log_scale: ClassVar[bool] = False
    param_specs: ClassVar[dict[str, tuple[float, float, float]]] = {
        "height": (2.0, 0.1, 10.0), "steepness": (10.0, 0.5, 50.0)}
    default_start: ClassVar[tuple[float, float]] = (-3.5, 3.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.2, "sgd": 0.2, "momentum": 0.05, "nesterov": 0.05,
        "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1,
    }
    C: ClassVar[float] = 0.01

    def __post_init__(self) -> None:
        # Where ∂f/∂x = 0 right of the cliff: a few Newton steps from x = 2.
        x = 2.0
        for _ in range(50):
            s = float(_sigmoid(-self.steepness * x))
            g = -self.height * self.steepness * s * (1 - s) + 2 * self.C * (x - 2)
            h = self.height * self.steepness**2 * s * (1 - s) * (1 - 2 * s) + 2 * self.C
            x -= g / h
        self.minima = [(x, 0.0)]

    def _value(self, x: Array, y: Array) -> Array:
        return self.height * _sigmoid(-self.steepness * x) + self.C * (x - 2) ** 2 + 0.1 * y * y

    def _grad(self, x: Array, y: Array) -> tuple[Array, Array]:
        s = _sigmoid(-self.steepness * x)
        return -self.height * self.steepness * s * (1 - s) + 2 * self.C * (x - 2), 0.2 * y


@dataclass
class Logistic(Surface):
    """L(w) = mean_i log(1 + exp(−y_i w·x_i)) + λ/2 ‖w‖², w = (w1, w2), no bias.

    Data: the "gauss" dataset (two blobs, labels ±1) with the second feature multiplied by
    `feature_scale` (a small scale makes the valley long and thin: why we standardize
    features), split into train (first half) and validation (second half). Mini-batches are
    drawn with replacement, independently for each run.
    """

    noise: float = 50.0
    feature_scale: float = 0.3
    l2: float = 0.001
    n_points: int = 40
    seed: int = 2

    name: ClassVar[str] = "logistic"
    label: ClassVar[str] = "Real loss: logistic regression"
    domain: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = ((-2.0, 4.0), (-1.0, 5.0))
    param_specs: ClassVar[dict[str, tuple[float, float, float]]] = {
        "noise": (50.0, 0.0, 50.0), "feature_scale": (0.3, 0.05, 1.0), "l2": (0.001, 0.001, 1.0),
        "n_points": (40, 10, 2000), "seed": (2, 0, 2**32 - 1)}
    default_start: ClassVar[tuple[float, float]] = (-1.5, 0.0)
    suggested_lr: ClassVar[dict[str, float]] = {
        "gd": 0.5, "sgd": 0.5, "momentum": 0.1, "nesterov": 0.1,
        "adagrad": 0.5, "rmsprop": 0.02, "adam": 0.05,
    }

    def __post_init__(self) -> None:
        X, y = datasets.generate("gauss", int(self.n_points), self.noise / 100.0, int(self.seed))
        X = X * np.array([1.0, self.feature_scale])
        self.X_train, self.y_train, self.X_val, self.y_val = datasets.split(X, y, 0.5)
        w = np.zeros(2)
        loss = self._data_loss(w[None], self.X_train, self.y_train)[0]
        for _ in range(200):  # damped Newton: the loss is convex, λ > 0 keeps H ≻ 0
            g = self._data_grad(w[None], self.X_train, self.y_train)[0]
            m = self.X_train @ w * self.y_train
            s = _sigmoid(m) * (1 - _sigmoid(m))
            H = (self.X_train * s[:, None]).T @ self.X_train / len(self.y_train) + self.l2 * np.eye(2)
            step = np.linalg.solve(H, g)
            while True:  # halve the step until the loss does not rise
                new = self._data_loss((w - step)[None], self.X_train, self.y_train)[0]
                if new <= loss or np.max(np.abs(step)) < 1e-15:
                    break
                step = step / 2
            w, loss = w - step, new
            if np.max(np.abs(step)) < 1e-13:
                break
        self.minima = [(float(w[0]), float(w[1]))]

    def _data_loss(self, W: Array, X: Array, y: Array) -> Array:
        """W (P, 2), X (N, 2), y (N,) → (P,). log(1 + e^(−m)) computed as logaddexp(0, −m)."""
        m = (W @ X.T) * y
        return np.logaddexp(0.0, -m).mean(axis=-1) + 0.5 * self.l2 * np.sum(W * W, axis=-1)

    def _data_grad(self, W: Array, X: Array, y: Array) -> Array:
        """∂L/∂w = mean_i −y_i σ(−m_i) x_i + λ w, for W (P, 2) → (P, 2)."""
        m = (W @ X.T) * y
        coef = -y * _sigmoid(-m) / X.shape[0]
        return coef @ X + self.l2 * W

    def value(self, theta: Array) -> Array:
        return self._data_loss(np.asarray(theta, dtype=np.float64), self.X_train, self.y_train)

    def grad(self, theta: Array) -> Array:
        return self._data_grad(np.asarray(theta, dtype=np.float64), self.X_train, self.y_train)

    def validation_loss(self, theta: Array) -> Array:
        return self._data_loss(np.asarray(theta, dtype=np.float64), self.X_val, self.y_val)

    def batch_cap(self, batch_size: int) -> int:
        """A mini-batch holds at most as many points as the training set (and at least one)."""
        return max(1, min(int(batch_size), len(self.y_train)))

    def points_per_update(self, batch_size: int = 0) -> int:
        """Training loss and gradient, validation loss, and the mini-batch (when `batch_size`)."""
        return len(self.y_train) + len(self.y_val) + (self.batch_cap(batch_size) if batch_size else 0)

    def stochastic_grad(self, theta: Array, rng: np.random.Generator, batch_size: int = 10,
                        noise: float = 0.0) -> Array:
        """The gradient on a mini-batch of `batch_size` training points per run (θ (P, 2)),
        drawn with replacement; a batch_size beyond the training set draws that many.

        The noise is the data's own, so `noise` (for analytic surfaces) is not used here."""
        theta = np.asarray(theta, dtype=np.float64)
        idx = rng.integers(0, len(self.y_train), (theta.shape[0], self.batch_cap(batch_size)))
        Xb, yb = self.X_train[idx], self.y_train[idx]  # (P, B, 2), (P, B)
        m = np.einsum("pbk,pk->pb", Xb, theta) * yb
        coef = -yb * _sigmoid(-m) / idx.shape[1]
        return np.einsum("pb,pbk->pk", coef, Xb) + self.l2 * theta

    def grid(self, res: int) -> tuple[Array, Array, Array]:
        (x0, x1), (y0, y1) = self.domain
        xs, ys = np.linspace(x0, x1, res), np.linspace(y0, y1, res)
        X, Y = np.meshgrid(xs, ys)
        return xs, ys, self.value(np.column_stack([X.ravel(), Y.ravel()])).reshape(res, res)


SURFACES: dict[str, type[Surface]] = {
    cls.name: cls for cls in [Bowl, Ravine, Rosenbrock, Beale, Himmelblau, Saddle, Camel, Plateau, Logistic]
}


def make(name: str, **params: Any) -> Surface:
    """Surface `name` with `params`; unknown names/parameters or out-of-range values raise."""
    try:
        cls = SURFACES[name]
    except KeyError:
        raise KeyError(f"unknown surface {name!r}; choose one of {sorted(SURFACES)}") from None
    unknown = set(params) - set(cls.param_specs)
    if unknown:
        allowed = sorted(cls.param_specs) or "none"
        raise KeyError(f"surface {name} has no parameter(s) {sorted(unknown)}; it takes {allowed}")
    for k, v in params.items():
        _, lo, hi = cls.param_specs[k]
        if not (lo <= v <= hi):
            raise ValueError(f"surface {name}: {k} must be between {lo:g} and {hi:g}, got {v}")
    return cls(**params)


@dataclass(frozen=True)
class PlotGrid:
    """A surface on a res × res grid, ready to draw: `plot` holds what to colour.

    xs, ys (res,); values (res, res) with values[i, j] = f(xs[j], ys[i]) (NaN/inf where f
    overflows); value_range (lo, hi) of the finite values; scale "linear" (plot = values,
    offset 0) or "log" (plot = log10(max(f − offset, δ)), so f = 10^plot + offset)."""

    xs: Array
    ys: Array
    values: Array
    value_range: tuple[float, float]
    plot: Array
    scale: str
    offset: float


def plot_grid(surface: Surface, res: int) -> PlotGrid:
    """`surface` on a res × res grid with the values to plot and the scale used.

    Surfaces whose levels read better on a log scale (`log_scale`) plot log10(f − f_min + δ),
    δ = 1e-3 of the range between f_min and the grid's highest value (1e-3 when that range is
    0), so the minimum plots as log10 δ instead of −inf; f_min is the surface's known minimum
    value, else the grid's lowest. That is offset = f_min − δ."""
    xs, ys, v = surface.grid(res)
    lo, hi = finite_range(v)
    if not surface.log_scale:
        return PlotGrid(xs, ys, v, (lo, hi), v, "linear", 0.0)
    base = surface.min_value if surface.min_value is not None else lo
    delta = 1e-3 * (hi - base) or 1e-3
    offset = base - delta
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.log10(np.maximum(v - offset, delta))
    return PlotGrid(xs, ys, v, (lo, hi), q, "log", float(offset))


def describe(surface: Surface) -> dict[str, Any]:
    """What a client needs to plot the surface and set up a run (JSON-ready)."""
    return {
        "name": surface.name,
        "label": surface.label,
        "params": surface.params(),
        "param_specs": {k: {"default": d, "min": lo, "max": hi}
                        for k, (d, lo, hi) in surface.param_specs.items()},
        "domain": [list(surface.domain[0]), list(surface.domain[1])],
        "log_scale": surface.log_scale,
        "minima": [list(m) for m in surface.minima],
        "saddles": [list(s) for s in surface.saddles],
        "min_value": surface.min_value,
        "default_start": list(surface.default_start),
        "suggested_lr": dict(surface.suggested_lr),
        "suggested_hyperparameters": {k: dict(v) for k, v in surface.suggested_hyperparameters.items()},
        "has_validation": surface.validation_loss(np.zeros((1, 2))) is not None,
    }
