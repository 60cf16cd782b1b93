"""2-D datasets, generated like the TensorFlow Playground's (same shapes and parameters).

Every generator takes (n, noise, rng) and returns X of shape (n, 2) in roughly [−6, 6]² and
y of shape (n,): ±1 for two classes, a value for regression ((x1 + x2)/10 on the plane, up to
±1.2 and beyond with noise, unclipped as in dataset.ts; the bumps in [−1, 1]), or an integer
class 0..K−1 for the multi-class sets. `noise` is the TF Playground's slider divided by 100
(0 … 0.5). Splitting into train/test shuffles with the same seeded Generator.

Where dataset.ts differs: its loops `i < n/2` make ⌈n/2⌉ points of each class, n + 1 in all
for an odd n; here the first class (blue) gets ⌈n/2⌉ and the second ⌊n/2⌋, so there are the n
points asked for. The split is dataset.ts's ⌊n·p⌋ training points, but at least one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
DOMAIN = 6.0  # the input plane shown is [−6, 6]²


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    problem: str  # "classification" | "regression" | "multiclass"
    generate: Callable[..., tuple[Array, Array]]


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Blue disc of radius 2.5 inside an orange ring of radii 3.5 … 5."""
    radius = 5.0
    h = (n + 1) // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, h), rng.uniform(radius * 0.7, radius, n - h)])
    ang = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(ang), r * np.cos(ang)])
    noisy = X + rng.uniform(-radius, radius, (n, 2)) * noise
    y = np.where(np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5, 1.0, -1.0)
    return X, y


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Four quadrants: blue where x1·x2 ≥ 0 (with a 0.3 gap along the axes)."""
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    noisy = X + rng.uniform(-5, 5, (n, 2)) * noise
    y = np.where(noisy[:, 0] * noisy[:, 1] >= 0, 1.0, -1.0)
    return X, y


def gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two Gaussian blobs at (2, 2) blue and (−2, −2) orange; variance 0.5 … 4 with noise."""
    std = np.sqrt(0.5 + noise * 7.0)
    h = (n + 1) // 2
    X = np.concatenate([rng.normal(2, std, (h, 2)), rng.normal(-2, std, (n - h, 2))])
    y = np.concatenate([np.ones(h), -np.ones(n - h)])
    return X, y


def _spiral_arms(n: int, noise: float, rng: np.random.Generator, k: int) -> tuple[Array, Array]:
    """k arms; point i of an arm at radius i/(n/k)·5 (dataset.ts's spacing, n/k fractional
    when k does not divide n); the first n mod k arms get one point more."""
    counts = [n // k + (1 if i < n % k else 0) for i in range(k)]
    per = n / k
    xs, ys = [], []
    for arm, m in enumerate(counts):
        i = np.arange(m)
        r = i / per * 5.0
        t = 1.75 * i / per * 2 * np.pi + arm * 2 * np.pi / k
        pts = np.column_stack([r * np.sin(t), r * np.cos(t)])
        xs.append(pts + rng.uniform(-1, 1, (m, 2)) * noise)
        ys.append(np.full(m, arm))
    return np.concatenate(xs), np.concatenate(ys)


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two interleaved spirals (blue arm from angle 0, orange from π)."""
    X, arm = _spiral_arms(n, noise, rng, 2)
    return X, np.where(arm == 0, 1.0, -1.0)


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two interleaving half circles, scaled to the [−6, 6] plane."""
    h = (n + 1) // 2
    t1 = rng.uniform(0, np.pi, h)
    t2 = rng.uniform(0, np.pi, n - h)
    upper = np.column_stack([np.cos(t1), np.sin(t1)])
    lower = np.column_stack([1 - np.cos(t2), 0.5 - np.sin(t2)])
    X = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 3.0
    X += rng.normal(0, 1, (n, 2)) * noise * 2.0
    y = np.concatenate([np.ones(h), -np.ones(n - h)])
    return X, y


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Regression: target (x1 + x2) / 10 of the noisy point, unclipped; points uniform on [−6, 6]²."""
    X = rng.uniform(-6, 6, (n, 2))
    noisy = X + rng.uniform(-6, 6, (n, 2)) * noise
    return X, (noisy[:, 0] + noisy[:, 1]) / 10.0


_GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def multi_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Regression: six signed bumps; the target is the strongest bump at each point."""
    X = rng.uniform(-6, 6, (n, 2))
    noisy = X + rng.uniform(-6, 6, (n, 2)) * noise
    d = np.hypot(noisy[:, None, 0] - _GAUSSIANS[:, 0], noisy[:, None, 1] - _GAUSSIANS[:, 1])
    vals = _GAUSSIANS[:, 2] * np.clip(1 - d / 2.0, 0, 1)
    return X, vals[np.arange(n), np.argmax(np.abs(vals), axis=1)]


def blobs(n: int, noise: float, rng: np.random.Generator, k: int = 3) -> tuple[Array, Array]:
    """Multi-class: K Gaussian blobs on a circle of radius 3.5; spread grows with noise."""
    ang = 2 * np.pi * np.arange(k) / k + np.pi / 2
    centers = 3.5 * np.column_stack([np.cos(ang), np.sin(ang)])
    y = np.arange(n) % k
    X = centers[y] + rng.normal(0, 0.6 + noise * 4.0, (n, 2))
    return X, y.astype(np.float64)


def spiral_arms(n: int, noise: float, rng: np.random.Generator, k: int = 3) -> tuple[Array, Array]:
    """Multi-class: K spiral arms, one class each."""
    X, arm = _spiral_arms(n, noise, rng, k)
    return X, arm.astype(np.float64)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset("circle", "Circle", "classification", circle),
        Dataset("xor", "Exclusive or", "classification", xor),
        Dataset("gauss", "Gaussian", "classification", gauss),
        Dataset("spiral", "Spiral", "classification", spiral),
        Dataset("moons", "Moons", "classification", moons),
        Dataset("plane", "Plane", "regression", plane),
        Dataset("multi_gauss", "Multi Gaussian", "regression", multi_gauss),
        Dataset("blobs", "Blobs (K classes)", "multiclass", blobs),
        Dataset("spiral_arms", "Spiral arms (K classes)", "multiclass", spiral_arms),
    ]
}


def get(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}") from None


def generate(
    name: str, n: int, noise: float, seed: int, num_classes: int = 3
) -> tuple[Array, Array]:
    """Points of dataset `name`, shuffled, from a Generator seeded with `seed`."""
    ds = get(name)
    rng = np.random.default_rng(seed)
    if ds.problem == "multiclass":
        X, y = ds.generate(n, noise, rng, num_classes)
    else:
        X, y = ds.generate(n, noise, rng)
    order = rng.permutation(len(X))
    return X[order], y[order]


def split(X: Array, y: Array, train_ratio: float) -> tuple[Array, Array, Array, Array]:
    """The first ⌊n·train_ratio⌋ of the (already shuffled) points train (at least one), the rest
    test. (The ratio is a percentage / 100: the tiny offset keeps 0.29·100 = 28.999… at 29.)"""
    k = min(len(X), max(1, int(np.floor(len(X) * train_ratio + 1e-9))))
    return X[:k], y[:k], X[k:], y[k:]
