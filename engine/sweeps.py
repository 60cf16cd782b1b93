"""Scaling sweeps: a grid of cells over model size and data, and what the grid's results say.

A `Grid` crosses hidden widths, depths, training-set sizes and seeds around a base
`CellConfig`; `cells()` lists one config per combination. Results come back per cell; the
functions here turn them into what the lab plots and reports:
- `aggregate`: one point per (width, depth, train_size), metrics averaged over the seeds
  (with their min and max), parameters and compute alongside;
- `scaling_fits`: power laws with a floor (`engine.powerlaw`) of a metric against
  parameters (the points trained on the largest training set), against training examples
  (the largest model) and against compute (the compute frontier: over every checkpoint of
  every cell on the largest training set, the points no cheaper checkpoint beats; the fit
  starts where the frontier has fallen to half its first value, as the first steps of
  training are a transient no power law describes);
- `double_descent`: for a random-features sweep through p = n, where the peak is, how high,
  and its neighbours.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from engine import powerlaw
from engine.scale_cells import CellConfig, CellResult

METRICS = ("test_error", "test_loss", "train_error", "train_loss")
AXES = ("parameters", "train_size", "flops")
Results = Sequence[tuple[CellConfig, CellResult]]


@dataclass(frozen=True)
class Grid:
    base: CellConfig
    widths: tuple[int, ...]
    train_sizes: tuple[int, ...]
    depths: tuple[int, ...] = (1,)
    seeds: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        for name in ("widths", "train_sizes", "depths", "seeds"):
            values = getattr(self, name)
            if not values:
                raise ValueError(f"{name} is empty: a sweep needs at least one value on each axis")
            if len(set(values)) != len(values):
                raise ValueError(f"{name} repeats a value")

    def __len__(self) -> int:
        return len(self.widths) * len(self.train_sizes) * len(self.depths) * len(self.seeds)

    def cells(self) -> list[CellConfig]:
        """One config per combination: depth, width, train size, then seed (fastest)."""
        return [self.base.with_changes(depth=d, width=w, train_size=n, seed=s)
                for d, w, n, s in itertools.product(self.depths, self.widths, self.train_sizes, self.seeds)]

    def spread_order(self) -> list[int]:
        """Cell indices in the order a class should take them: every seed-0 cell before any
        other seed's, and within a seed a seeded shuffle, so the first results already span
        both axes of the plot."""
        configs = self.cells()
        rng = np.random.default_rng(0)
        order: list[int] = []
        for s in self.seeds:
            idx = [k for k, c in enumerate(configs) if c.seed == s]
            order += [idx[i] for i in rng.permutation(len(idx))]
        return order


@dataclass
class Point:
    width: int
    depth: int
    train_size: int
    parameters: int
    flops: float
    seeds: int  # results averaged
    mean: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def aggregate(results: Results) -> list[Point]:
    """One point per (width, depth, train_size) over the seeds that finished (diverged runs
    left out), sorted by depth, width, train size."""
    groups: dict[tuple[int, int, int], list[CellResult]] = defaultdict(list)
    for c, r in results:
        if not r.diverged:
            groups[(c.width, c.depth, c.train_size)].append(r)
    points = []
    for (w, d, n), rs in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        m = {k: np.array([getattr(r, k) for r in rs], dtype=np.float64) for k in METRICS}
        points.append(Point(w, d, n, rs[0].parameters, float(np.mean([r.flops for r in rs])), len(rs),
                            {k: float(v.mean()) for k, v in m.items()},
                            {k: float(v.min()) for k, v in m.items()},
                            {k: float(v.max()) for k, v in m.items()}))
    return points


def _fit(x: Sequence[float], y: Sequence[float]) -> dict | None:
    """A power law with a floor when there are points enough for one, else without."""
    fitted = powerlaw.fit(np.asarray(x), np.asarray(y), floor=True) or powerlaw.fit(
        np.asarray(x), np.asarray(y), floor=False)
    return fitted.to_dict() if fitted else None


def compute_frontier(results: Results, metric: str) -> tuple[list[float], list[float]]:
    """(flops, metric) of the checkpoints on the compute frontier: sorted by compute, each
    lower than every cheaper checkpoint. Checkpoints are averaged over seeds first."""
    curves: dict[tuple[int, int, int, float], list[float]] = defaultdict(list)
    flops_of: dict[tuple[int, int, int, float], list[float]] = defaultdict(list)
    for c, r in results:
        if r.diverged or metric not in r.curve:
            continue
        for step, f, v in zip(r.curve["step"], r.curve["flops"], r.curve[metric], strict=True):
            key = (c.width, c.depth, c.train_size, step)
            curves[key].append(v)
            flops_of[key].append(f)
    pts = sorted((float(np.mean(flops_of[k])), float(np.mean(v))) for k, v in curves.items())
    xs, ys, best = [], [], np.inf
    for f, v in pts:
        if f > 0 and v < best:
            best = v
            xs.append(f)
            ys.append(v)
    return xs, ys


def scaling_fits(results: Results, metric: str = "test_error") -> dict:
    """Power-law fits of `metric` against each axis, with the points they used:
    {"parameters": {"fit", "x", "y", "train_size"}, "train_size": {..., "parameters"},
     "flops": {..., "train_size"}}; an axis with fewer than 3 distinct values has fit None."""
    points = aggregate(results)
    out: dict[str, dict | None] = {a: None for a in AXES}
    if not points:
        return out
    n_max = max(p.train_size for p in points)
    on_most_data = [p for p in points if p.train_size == n_max]
    out["parameters"] = {"train_size": n_max, "x": [p.parameters for p in on_most_data],
                         "y": [p.mean[metric] for p in on_most_data]}
    biggest = max(points, key=lambda p: (p.parameters, p.depth))
    by_model = [p for p in points if (p.width, p.depth) == (biggest.width, biggest.depth)]
    out["train_size"] = {"parameters": biggest.parameters, "x": [p.train_size for p in by_model],
                         "y": [p.mean[metric] for p in by_model]}
    fx, fy = compute_frontier([(c, r) for c, r in results if c.train_size == n_max], metric)
    start = next((i for i, v in enumerate(fy) if v <= fy[0] / 2), len(fy))
    out["flops"] = {"train_size": n_max, "x": fx, "y": fy, "fit_from": start}
    for axis in AXES:
        entry = out[axis]
        x, y = entry["x"][entry.get("fit_from", 0):], entry["y"][entry.get("fit_from", 0):]
        entry["fit"] = _fit(x, y) if len(set(x)) >= 3 else None
    return out


def double_descent(points: Sequence[Point], metric: str = "test_error") -> dict | None:
    """Where the test metric peaks along the width, for one training-set size n (the
    smallest if several): {"threshold": n, "peak": {"width", "value"}, "at_threshold":
    {"width", "value", "left", "right"}, "is_peak": the point nearest p = n above both
    neighbours, "best_under": best below the threshold, "widest": the widest model}."""
    if not points:
        return None
    n = min(p.train_size for p in points)
    row = sorted((p for p in points if p.train_size == n and p.depth == points[0].depth),
                 key=lambda p: p.width)
    if len(row) < 3:
        return None
    values = [p.mean[metric] for p in row]
    widths = [p.width for p in row]
    peak = int(np.argmax(values))
    i = int(np.argmin([abs(np.log(w / n)) for w in widths]))
    inner = 0 < i < len(row) - 1

    def at(k: int) -> dict[str, float] | None:
        return {"width": widths[k], "value": values[k]} if 0 <= k < len(row) else None

    under = [k for k, w in enumerate(widths) if w < n]
    best_under = min(under, key=lambda k: values[k]) if under else None
    return {
        "metric": metric,
        "threshold": n,
        "peak": at(peak),
        "at_threshold": {**at(i), "left": at(i - 1), "right": at(i + 1)},
        "is_peak": bool(inner and values[i] > values[i - 1] and values[i] > values[i + 1]),
        "best_under": None if best_under is None else at(best_under),
        "widest": at(len(row) - 1),
    }
