"""The 2-D datasets against the TensorFlow Playground's dataset.ts, where a user can see it:
how many points of each class, the train/test split, the regression plane's labels."""

from __future__ import annotations

import numpy as np
import pytest

from engine import datasets
from engine.trainer import MLPConfig, Trainer


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral", "moons"])
@pytest.mark.parametrize("n", [7, 8, 501])
def test_classes_get_half_the_points_the_first_rounding_up(name, n):
    """dataset.ts makes n/2 of each class in a loop `i < n/2`, so an odd n gives both ⌈n/2⌉
    (n + 1 points). We keep the n points asked for: blue gets ⌈n/2⌉ as there, orange ⌊n/2⌋."""
    X, y = datasets.generate(name, n, 0.0, seed=3)
    assert len(X) == n
    assert int(np.sum(y > 0)) == (n + 1) // 2 and int(np.sum(y < 0)) == n // 2


def test_the_spiral_arms_are_spaced_as_in_dataset_ts():
    # r = i / (n/2) · 5 with n/2 fractional for odd n, the same spacing for both arms
    X, y = datasets.spiral(7, 0.0, np.random.default_rng(0))
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y > 0] == pytest.approx([0, 5 / 3.5, 10 / 3.5, 15 / 3.5])
    assert r[y < 0] == pytest.approx([0, 5 / 3.5, 10 / 3.5])


@pytest.mark.parametrize("n, percent, train", [(7, 50, 3), (500, 30, 150), (10, 10, 1), (99, 90, 89),
                                               (4, 10, 1), (29, 70, 20)])
def test_the_split_floors_n_times_the_share(n, percent, train):
    """dataset.ts trains on the first ⌊n·p⌋ shuffled points; we keep at least one (a network
    needs something to train on: only 4 to 9 points at 10 % differ)."""
    t = Trainer(MLPConfig(dataset="gauss", n_points=n, train_ratio=percent / 100))
    assert len(t.X_train) == train and len(t.X_test) == n - train


def test_the_regression_plane_is_not_clipped():
    """dataset.ts maps x + y from [−10, 10] to [−1, 1] without clamping: corners reach ±1.2."""
    X, y = datasets.generate("plane", 2000, 0.0, seed=1)
    assert y == pytest.approx((X[:, 0] + X[:, 1]) / 10, abs=1e-15)
    assert y.max() > 1.1 and y.min() < -1.1
    # the Gaussian bumps are clamped to [0, 1] there, as here
    _, g = datasets.generate("multi_gauss", 2000, 0.3, seed=1)
    assert np.all(np.abs(g) <= 1)
