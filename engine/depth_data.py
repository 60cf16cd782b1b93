"""The depth lab's data: the digits as 64 features or a 2-D classification set, split by class
and standardized with the training set's mean and standard deviation per feature (the deep
networks start from inputs of variance 1, as the signal-propagation study assumes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import datasets, image_data

Array = np.ndarray
# The digits and every classification set of engine.datasets (regression ones have no classes).
DATASETS = ("digits", *(name for name, d in datasets.DATASETS.items() if d.problem != "regression"))


@dataclass(frozen=True)
class DepthData:
    """Standardized features (training mean 0, standard deviation 1 per feature) and labels."""

    X_train: Array  # (n, n_in)
    y_train: Array  # (n,) int
    X_test: Array
    y_test: Array
    classes: tuple[str, ...]

    @property
    def n_in(self) -> int:
        return self.X_train.shape[1]

    @property
    def chance_loss(self) -> float:
        """The cross-entropy of guessing the training set's class frequencies (ln K when balanced)."""
        p = np.bincount(self.y_train, minlength=len(self.classes)) / len(self.y_train)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())


def load_data(dataset: str, n_points: int, noise: float, seed: int, train_ratio: float) -> DepthData:
    """The digits (8×8 images as 64 features) or a 2-D set, split stratified by `seed`."""
    if dataset == "digits":
        d = image_data.load("digits")
        X, y, classes = d.images.reshape(len(d), -1), d.labels, d.classes
    else:
        if dataset not in DATASETS:
            raise KeyError(f"unknown dataset {dataset!r}; choose one of {list(DATASETS)}")
        X, y = datasets.generate(dataset, n_points, noise, seed, 3)
        if datasets.get(dataset).problem == "classification":
            y, classes = (y > 0).astype(np.int64), ("orange", "blue")
        else:
            y = y.astype(np.int64)
            classes = tuple(f"class {k}" for k in range(int(y.max()) + 1))
    X_tr, y_tr, X_te, y_te = image_data.split(X, y, train_ratio, np.random.default_rng([seed, 0]))
    mu, sd = X_tr.mean(axis=0), X_tr.std(axis=0)
    sd = np.where(sd > 1e-8, sd, 1.0)  # constant pixels stay 0
    return DepthData((X_tr - mu) / sd, y_tr, (X_te - mu) / sd, y_te, tuple(classes))
