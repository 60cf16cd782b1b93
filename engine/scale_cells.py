"""One cell of a scaling sweep: a model of one size trained on one number of examples to a
fixed budget, and what it scored.

A `CellConfig` says everything a cell depends on (so a result is cached by it, seed
included). Three model families:
- "mlp": `depth` hidden dense layers of `width` ReLU units and a softmax output, trained by
  `engine.image_trainer` (Adam by default) for `steps` mini-batch updates;
- "cnn": the lab's ConvNet with `width` filters in its first convolution and 2·width in its
  second (3×3, padding 1, each followed by ReLU and 2×2 max pooling), trained the same way;
- "random_features": `width` frozen random ReLU features and a least-squares read-out solved
  exactly (`engine.random_features`), the double-descent model; `ridge` is its λ.
The data are `dataset`'s images split 80/20 (stratified, from the seed, as the image trainer
does); the cell trains on the first `train_size` training images, a share `label_noise` of
their labels replaced by a random class, and is tested on the whole untouched test split.

Compute is counted as training FLOPs ≈ 6 · MACs per example · examples processed (a forward
pass costs 2 FLOPs per multiply-accumulate, the backward pass twice that), the usual
estimate of scaling-law papers. A random-features cell counts the arithmetic of its solve.

`Cell(config)` trains in pieces: `step(n)` runs up to n units (mini-batch updates, or for
random features one point of the gradient-descent path), `done` says when the budget is
spent, `curve` holds the checkpoints (log-spaced steps) and `result()` the final numbers.
`run_cell(config)` does it all at once.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

import numpy as np

from engine import image_data
from engine.image_trainer import ImageConfig, ImageTrainer
from engine.random_features import RandomFeatures

Array = np.ndarray
MODELS = ("mlp", "cnn", "random_features")
TRAIN_RATIO = 0.8
SHAPES_IMAGES = 1000  # generated "shapes" per seed (image_data.load's default set)
CHECKPOINTS = 16  # log-spaced points of a network cell's training curve
GD_POINTS = 28  # points of a random-features cell's gradient-descent path, t = 1 … 10⁶
GD_LAST = 1e6


@dataclass(frozen=True)
class CellConfig:
    model: str = "mlp"
    dataset: str = "digits"
    width: int = 32  # hidden units per layer (mlp), first-layer filters (cnn), features (random_features)
    depth: int = 1  # hidden layers (mlp only)
    train_size: int = 1438
    label_noise: float = 0.0  # share of training labels replaced by a random class, 0 … 1
    seed: int = 0
    steps: int = 400  # mini-batch updates (mlp, cnn)
    batch_size: int = 32
    lr: float = 0.01
    optimizer: str = "adam"
    ridge: float = 0.0  # λ of the random-features read-out

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {list(MODELS)}")
        if self.dataset not in image_data.DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {list(image_data.DATASETS)}")
        if self.width < 1 or self.depth < 1 or self.train_size < 1 or self.steps < 1 or self.batch_size < 1:
            raise ValueError("width, depth, train_size, steps and batch_size must be at least 1")
        if not 0.0 <= self.label_noise <= 1.0:
            raise ValueError(f"label_noise is a share in [0, 1], got {self.label_noise}")
        pool = train_pool(self.dataset)
        if self.train_size > pool:
            raise ValueError(f"{self.dataset} has {pool} training images; "
                             f"train_size {self.train_size} is more")

    def canonical(self) -> dict[str, Any]:
        """The fields that matter for this model (others at their defaults), as a dict."""
        out = asdict(self)
        if self.model == "random_features":
            for name in ("depth", "steps", "batch_size", "lr", "optimizer"):
                out[name] = CellConfig.__dataclass_fields__[name].default
        else:
            out["ridge"] = 0.0
            if self.model == "cnn":
                out["depth"] = 1
        return out

    def key(self) -> str:
        """A string naming the cell's result: equal configs (seed included) share it."""
        return json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))

    def with_changes(self, **changes: Any) -> CellConfig:
        return replace(self, **changes)


@lru_cache(maxsize=4)
def train_pool(dataset: str) -> int:
    """How many training images the 80/20 split leaves (1,438 of the 1,797 digits)."""
    counts = np.bincount(image_data.load(dataset, SHAPES_IMAGES).labels)
    return int(sum(round(TRAIN_RATIO * c) for c in counts))


def image_config(c: CellConfig) -> ImageConfig:
    """The image trainer's configuration of a network cell."""
    return ImageConfig(dataset=c.dataset, n_images=SHAPES_IMAGES, train_ratio=TRAIN_RATIO,
                       train_size=c.train_size, label_noise=c.label_noise, seed=c.seed,
                       layers=layers(c), init="he", optimizer=c.optimizer, lr=c.lr,
                       batch_size=c.batch_size)


def layers(c: CellConfig) -> tuple[dict[str, Any], ...]:
    """The layer spec (engine.nn.build) of a network cell, output layer excluded."""
    if c.model == "cnn":
        return ({"type": "conv", "filters": c.width, "kernel": 3, "padding": 1}, {"type": "relu"},
                {"type": "maxpool", "size": 2},
                {"type": "conv", "filters": 2 * c.width, "kernel": 3, "padding": 1}, {"type": "relu"},
                {"type": "maxpool", "size": 2})
    return tuple(x for _ in range(c.depth) for x in ({"type": "dense", "units": c.width}, {"type": "relu"}))


def training_data(c: CellConfig) -> tuple[Array, Array, Array, Array, int]:
    """(X_train, y_train, X_test, y_test, K) exactly as the image trainer draws them for this
    config: the same split, the same first train_size images, the same noisy labels."""
    streams = [np.random.default_rng([c.seed, k]) for k in range(4)]
    data = image_data.load(c.dataset, SHAPES_IMAGES, seed=c.seed)
    X_tr, y_tr, X_te, y_te = image_data.split(data.images, data.labels, TRAIN_RATIO, streams[0])
    X_tr, y_tr = X_tr[: c.train_size], y_tr[: c.train_size].copy()
    if c.label_noise:
        flip = streams[0].random(len(y_tr)) < c.label_noise
        y_tr[flip] = streams[0].integers(0, data.num_classes, int(flip.sum()))
    return X_tr, y_tr, X_te, y_te, data.num_classes


def examples_seen(steps: int, n: int, batch: int) -> int:
    """Examples processed by `steps` mini-batch updates over n examples (the last batch of an
    epoch holds what is left)."""
    per_epoch = math.ceil(n / batch)
    epochs, rest = divmod(steps, per_epoch)
    return epochs * n + min(rest * batch, n)


@dataclass(frozen=True)
class CellShape:
    """What a cell costs and holds, known before it trains."""

    parameters: int  # trained parameters
    macs: int  # multiply-accumulates per example, forward
    flops: float  # training compute of the whole budget
    units: int  # step(n) units until done


def shape(c: CellConfig) -> CellShape:
    """Parameters, MACs and the compute of the full budget, without training."""
    pixels = 64 if c.dataset == "digits" else 144
    side = 8 if c.dataset == "digits" else 12
    K = 10 if c.dataset == "digits" else 4
    if c.model == "random_features":
        n, p = c.train_size, c.width
        n_test = _test_size(c.dataset)
        flops = 2.0 * (n + n_test) * pixels * p + 2.0 * n * p * min(n, p) + 10.0 * min(n, p) ** 3
        return CellShape(p * K, pixels * p + p * K, flops, GD_POINTS + 1)
    w = c.width
    if c.model == "cnn":
        h1, h2 = side // 2, side // 4
        params = (9 * w + w) + (9 * w * 2 * w + 2 * w) + (2 * w * h2 * h2 * K + K)
        macs = 9 * w * side * side + 9 * w * 2 * w * h1 * h1 + 2 * w * h2 * h2 * K
    else:
        sizes = [pixels] + [w] * c.depth + [K]
        params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
        macs = sum(a * b for a, b in itertools.pairwise(sizes))
    flops = 6.0 * macs * examples_seen(c.steps, c.train_size, min(c.batch_size, c.train_size))
    return CellShape(params, macs, flops, c.steps)


@lru_cache(maxsize=4)
def _test_size(dataset: str) -> int:
    return len(image_data.load(dataset, SHAPES_IMAGES).labels) - train_pool(dataset)


@dataclass
class CellResult:
    parameters: int
    train_size: int
    steps: int  # mini-batch updates; for random features 0 = solved exactly (else the path's step)
    flops: float
    test_error: float
    test_loss: float
    train_error: float
    train_loss: float
    diverged: bool = False
    # Checkpoints: step, flops, test_error, test_loss, train_error (lists of equal length).
    curve: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)  # model-specific (‖θ‖, rank)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkpoints(steps: int, count: int = CHECKPOINTS) -> list[int]:
    """Log-spaced step counts 1 … steps (the last always included)."""
    return sorted({round(v) for v in np.geomspace(1, steps, min(count, steps))} | {steps})


class Cell:
    """A cell trained in pieces (for a page that watches it) or at once (`run_cell`)."""

    def __init__(self, config: CellConfig) -> None:
        self.config = config
        self.shape = shape(config)
        self.curve: dict[str, list[float]] = {k: [] for k in ("step", "flops", "test_error", "test_loss",
                                                               "train_error")}
        self.units = 0
        if config.model == "random_features":
            X_tr, y_tr, X_te, y_te, K = training_data(config)
            rng = np.random.default_rng([config.seed, 4])
            self.rf = RandomFeatures(X_tr.reshape(len(X_tr), -1), y_tr, X_te.reshape(len(X_te), -1), y_te,
                                     config.width, K, rng, config.ridge)
            self._path = [float(t) for t in np.geomspace(1, GD_LAST, GD_POINTS)]
            self.trainer = None
        else:
            self.trainer = ImageTrainer(image_config(config))
            self._marks = checkpoints(config.steps)
            self._seen = 0

    @property
    def done(self) -> bool:
        return self.units >= self.shape.units or (self.trainer is not None and self.trainer.diverged)

    def step(self, n: int = 1) -> int:
        """Run up to n units of the budget; returns how many ran."""
        ran = 0
        while ran < n and not self.done:
            if self.trainer is None:
                self._rf_point()
                ran += 1
                continue
            nxt = next(m for m in self._marks if m > self.units)
            k = min(n - ran, nxt - self.units)
            done = self.trainer.step(k)
            self.units += done
            ran += done
            if self.units == nxt or self.trainer.diverged:
                self._record()
            if done < k:
                break
        return ran

    def _record(self) -> None:
        c, t = self.config, self.trainer
        m = t.metrics()
        batch = min(c.batch_size, len(t.X_train))
        self._append(self.units, 6.0 * self.shape.macs * examples_seen(self.units, len(t.X_train), batch),
                     1.0 - m.test_accuracy, m.test_loss, 1.0 - m.train_accuracy)

    def _rf_point(self) -> None:
        """The next point of the gradient-descent path; the last unit is its limit (the solve)."""
        i = self.units
        if i < len(self._path):
            e = self.rf.evaluate(self._path[i])
            self._append(self._path[i], self.shape.flops, e["test_error"], e["test_loss"], e["train_error"])
        self.units += 1

    def _append(self, step: float, flops: float, test_error: float, test_loss: float,
                train_error: float) -> None:
        for k, v in zip(self.curve, (step, flops, test_error, test_loss, train_error), strict=True):
            self.curve[k].append(float(v))

    def result(self) -> CellResult:
        """The numbers at this point of training (final once `done`)."""
        c = self.config
        if self.trainer is None:
            # Converged (the exact solve) once done; before, the last point of the path.
            t = None if self.done else self._path[max(self.units - 1, 0)]
            e = self.rf.evaluate(t)
            extra = {"theta_norm": self.rf.theta_norm(t), "rank": float(self.rf.rank)}
            return CellResult(self.shape.parameters, c.train_size, 0 if t is None else int(t),
                              self.shape.flops, e["test_error"], e["test_loss"], e["train_error"],
                              e["train_loss"], False, _rounded(self.curve), extra)
        t = self.trainer
        test, train = t.test_evaluation(), t.train_evaluation()
        batch = min(c.batch_size, len(t.X_train))
        flops = 6.0 * self.shape.macs * examples_seen(self.units, len(t.X_train), batch)
        return CellResult(t.model.num_parameters, len(t.X_train), self.units, flops,
                          1.0 - test.accuracy, test.loss, 1.0 - train.accuracy, train.loss, t.diverged,
                          _rounded(self.curve))


def _rounded(curve: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: [float(f"{v:.6g}") for v in vals] for k, vals in curve.items()}


def run_cell(config: CellConfig) -> CellResult:
    """Train a cell to its budget and return its result."""
    cell = Cell(config)
    cell.step(cell.shape.units)
    return cell.result()


CONFIG_FIELDS = tuple(f.name for f in fields(CellConfig))
