"""Power laws with an irreducible floor, the shape of a scaling curve: L(x) = a · x^(−α) + c.

x is what grows (parameters, training examples, training compute), L what falls (test error
or loss), α the exponent, c ≥ 0 the floor no amount of x goes below (label noise, the Bayes
error of the data, a model family's limit) and a the scale.

The fit measures misfit on the log scale the plot uses: it minimises
    Σᵢ (log L̂(xᵢ) − log Lᵢ)²,
so a curve spanning 0.5 … 0.01 is fitted at both ends. For a fixed floor c the model is a
straight line in log–log coordinates, log(L − c) = log a − α log x, whose least-squares line
gives (a, α); the floor is then chosen in [0, min L) by a grid over c followed by a
golden-section search on the profile, and finally (a, α, c) are refined jointly with a few
damped Gauss–Newton steps on the log residuals. `floor=False` fits a pure power law (c = 0).
Points with x ≤ 0 or L ≤ 0 (a test error of exactly 0) cannot be placed on log axes and are
left out; `n` says how many were used. The fit needs 3 usable points (4 with a floor).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class PowerLawFit:
    a: float  # scale
    alpha: float  # exponent: L falls as x^(−α)
    floor: float  # c, the irreducible part
    r2: float  # share of the variance of log L the fit explains
    rmse_log: float  # root-mean-square residual of log L (natural log)
    n: int  # points used
    x_min: float
    x_max: float

    def predict(self, x: Array | float) -> Array:
        """L̂(x) = a · x^(−α) + c."""
        return self.a * np.power(np.asarray(x, dtype=np.float64), -self.alpha) + self.floor

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _line(lx: Array, ly: Array) -> tuple[float, float]:
    """Least-squares line ly ≈ k + m·lx: returns (k, m)."""
    xm, ym = lx.mean(), ly.mean()
    sxx = float(((lx - xm) ** 2).sum())
    m = float(((lx - xm) * (ly - ym)).sum() / sxx) if sxx > 0 else 0.0
    return float(ym - m * xm), m


def _for_floor(lx: Array, y: Array, c: float) -> tuple[float, float, float]:
    """(log a, α, Σ log-residual²) of the best line through log(y − c) for the floor c."""
    k, m = _line(lx, np.log(y - c))
    pred = np.exp(k - (-m) * lx) + c
    return k, -m, float(((np.log(pred) - np.log(y)) ** 2).sum())


def _refine(lx: Array, ly: Array, k: float, alpha: float, c: float, floor: bool,
            iterations: int = 30) -> tuple[float, float, float]:
    """Damped Gauss–Newton on r = log(e^(k − α·lx) + c) − log y over (k, α[, c ≥ 0])."""
    y_min = float(np.exp(ly.min()))

    def loss(k: float, alpha: float, c: float) -> float:
        return float(((np.log(np.exp(k - alpha * lx) + c) - ly) ** 2).sum())

    best = loss(k, alpha, c)
    damping = 1e-3
    for _ in range(iterations):
        p = np.exp(k - alpha * lx)
        q = p + c
        r = np.log(q) - ly
        J = np.column_stack([p / q, -lx * p / q] + ([1.0 / q] if floor else []))
        g = J.T @ r
        H = J.T @ J
        improved = False
        for _ in range(8):
            step = np.linalg.solve(H + damping * np.diag(np.diag(H) + 1e-12), -g)
            k2, a2 = k + step[0], alpha + step[1]
            c2 = min(max(c + step[2], 0.0), y_min * (1 - 1e-9)) if floor else 0.0
            trial = loss(k2, a2, c2)
            if math.isfinite(trial) and trial < best:
                k, alpha, c, best = k2, a2, c2, trial
                damping = max(damping / 3, 1e-9)
                improved = True
                break
            damping *= 10
        if not improved or best < 1e-30:
            break
    return k, alpha, c


def fit(x: Array, y: Array, floor: bool = True) -> PowerLawFit | None:
    """The power law (with a floor c ≥ 0 unless floor=False) closest to (x, y) on log axes,
    or None with too few usable points. x, y: (n,) arrays."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    x, y = x[ok], y[ok]
    if len(x) < (4 if floor else 3) or np.ptp(np.log(x)) == 0:
        return None
    lx, ly = np.log(x), np.log(y)
    if floor:
        y_min = float(y.min())
        # Floors from 0 up to just below the smallest point, denser near it (where the
        # profile bends): c = y_min · (1 − 10^(−u)), u from 0 (c = 0) to 6.
        grid = np.concatenate([[0.0], y_min * (1 - np.logspace(0, -6, 120)[1:])])
        costs = [_for_floor(lx, y, c)[2] for c in grid]
        i = int(np.argmin(costs))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        c = _golden(lambda c: _for_floor(lx, y, c)[2], lo, hi)
        if _for_floor(lx, y, c)[2] > costs[i]:
            c = float(grid[i])
    else:
        c = 0.0
    k, alpha, _ = _for_floor(lx, y, c)
    k, alpha, c = _refine(lx, ly, k, alpha, c, floor)
    pred = np.log(np.exp(k - alpha * lx) + c)
    ss_res = float(((pred - ly) ** 2).sum())
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(float(np.exp(k)), float(alpha), float(c), float(r2),
                       float(math.sqrt(ss_res / len(x))), len(x), float(x.min()), float(x.max()))


def _golden(f, lo: float, hi: float, iterations: int = 40) -> float:
    """The minimum of a unimodal f on [lo, hi] by golden-section search."""
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c1, c2 = b - g * (b - a), a + g * (b - a)
    f1, f2 = f(c1), f(c2)
    for _ in range(iterations):
        if f1 <= f2:
            b, c2, f2 = c2, c1, f1
            c1 = b - g * (b - a)
            f1 = f(c1)
        else:
            a, c1, f1 = c1, c2, f2
            c2 = a + g * (b - a)
            f2 = f(c2)
    return (a + b) / 2
