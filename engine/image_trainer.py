"""Mini-batch training of an image classifier built from layer specs: the ConvNet lab's engine.

`ImageTrainer(config)` loads the images, splits them (stratified, seeded), builds the network
(the spec + a dense output layer, engine.nn.build) and the optimizer (engine.optimizers), all
from one seed, so the same config trains the same way in the browser, the API and a test.
`step(n)` runs n mini-batch updates (an epoch is one pass over the training set, reshuffled
every epoch, the last batch possibly smaller), augmenting each batch when asked. A non-finite
loss stops training and sets `diverged`, a state and never an exception.

Metrics: the test set is evaluated exactly (evaluation mode) whenever asked, once per step at
most; the training loss and accuracy are running means over the last epoch's worth of
mini-batches as they were trained (ConvNetJS and Keras report the same), which costs nothing,
where an exact pass over the training set would cost as much as half an epoch of training.
`train_evaluation()` gives the exact numbers when they are wanted.

Separate streams drawn from the seed keep choices independent: the split, the initial
weights, the batch order and the augmentation/dropout draws each have their own Generator,
so switching augmentation on does not change the batch order or the initial weights.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from engine import augment, image_data, optimizers
from engine.image_eval import SetEvaluation, evaluate
from engine.nn import Sequential, Trace
from engine.nn.build import build
from engine.nn.stats import update_ratios
from engine.nn.summary import LayerSummary, summarize

Array = np.ndarray

# Two 3×3 convolutions with 2×2 max pooling, then the output layer: 8×8 → 8×4×4 → 16×2×2 → 10.
DEFAULT_LAYERS: tuple[dict[str, Any], ...] = (
    {"type": "conv", "filters": 8, "kernel": 3, "padding": 1},
    {"type": "relu"},
    {"type": "maxpool", "size": 2},
    {"type": "conv", "filters": 16, "kernel": 3, "padding": 1},
    {"type": "relu"},
    {"type": "maxpool", "size": 2},
)


@dataclass(frozen=True)
class ImageConfig:
    dataset: str = "digits"  # "digits" | "shapes"
    n_images: int = 1000  # shapes only
    image_size: int = 12  # shapes only, 8 … 16
    noise: float = 0.1  # shapes only: pixel noise σ
    train_ratio: float = 0.8
    train_size: int | None = None  # train on only the first n training images (data sweeps)
    label_noise: float = 0.0  # share of training labels replaced by a random class
    seed: int = 0
    layers: tuple[dict[str, Any], ...] = DEFAULT_LAYERS  # hidden layers; the output is added
    init: str = "he"
    optimizer: str = "adam"
    lr: float = 0.01
    optimizer_params: tuple[tuple[str, Any], ...] = ()
    batch_size: int = 32
    augment_shift: int = 0  # random shifts of ± this many pixels per training image
    augment_noise: float = 0.0  # σ of pixel noise added to training images

    def with_changes(self, **changes: Any) -> ImageConfig:
        return replace(self, **changes)

    # What changes the data, the network or its initial weights: a new run.
    RESET_FIELDS = frozenset({"dataset", "n_images", "image_size", "noise", "train_ratio", "train_size",
                              "label_noise", "seed", "layers", "init"})


LIVE_FIELDS = frozenset(f.name for f in fields(ImageConfig)) - ImageConfig.RESET_FIELDS


@dataclass
class ImageMetrics:
    """Test numbers exact at this step; train numbers the running means over the last epoch's
    mini-batches (exact at step 0, before any batch)."""

    step: int
    epoch: int
    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    diverged: bool


@dataclass
class ImageHistory:
    """Metrics after each epoch (and at step 0)."""

    steps: list[int] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)


class ImageTrainer:
    def __init__(self, config: ImageConfig) -> None:
        self.config = config
        self._build()

    # ----- construction -------------------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        streams = [np.random.default_rng([c.seed, k]) for k in range(4)]
        self._split_rng, init_rng, self._order_rng, self._noise_rng = streams
        self.data = image_data.load(c.dataset, c.n_images, c.image_size, c.noise, c.seed)
        X_tr, y_tr, self.X_test, self.y_test = image_data.split(
            self.data.images, self.data.labels, c.train_ratio, self._split_rng)
        if c.train_size is not None:
            X_tr, y_tr = X_tr[: c.train_size], y_tr[: c.train_size]
        if c.label_noise:
            y_tr = y_tr.copy()
            flip = self._split_rng.random(len(y_tr)) < c.label_noise
            y_tr[flip] = self._split_rng.integers(0, self.data.num_classes, int(flip.sum()))
        self.X_train, self.y_train = X_tr, y_tr
        if len(self.X_train) == 0:
            raise ValueError("the training set is empty: raise train_ratio or train_size")
        self.model: Sequential = build(c.layers, self.data.image_shape, self.data.num_classes, c.init,
                                       init_rng, input_grad=False)
        for layer in self.model.layers:  # dropout draws from the augmentation stream
            if layer.kind == "dropout":
                layer.rng = self._noise_rng
        self.optimizer = optimizers.make(c.optimizer, self.model.parameters(), lr=c.lr,
                                         **dict(c.optimizer_params))
        self.initial_filters = {k: w.copy() for k, w in self.filters().items()}
        self.step_count = 0
        self.epoch = 0
        self._pos = 0
        self._shuffle()
        self.diverged = False
        self.trace: Trace | None = None
        self.last_update: dict[str, float | None] = {}
        self.history = ImageHistory()
        self._batches: deque[tuple[float, int, int]] = deque(maxlen=self.batches_per_epoch)
        self._test_eval: SetEvaluation | None = None
        self._train_eval: SetEvaluation | None = None
        self._record()

    def _shuffle(self) -> None:
        perm = self._order_rng.permutation(len(self.X_train))
        self._X_epoch, self._y_epoch = self.X_train[perm], self.y_train[perm]

    def reset(self) -> None:
        """Start over from the config's seed: same data, same initial weights."""
        self._build()

    def update(self, **changes: Any) -> bool:
        """Apply config changes; True when they started a new run (see RESET_FIELDS)."""
        new = self.config.with_changes(**changes)
        needs_reset = any(getattr(new, k) != getattr(self.config, k) for k in ImageConfig.RESET_FIELDS)
        old, self.config = self.config, new
        if needs_reset:
            self._build()
        elif new.optimizer != old.optimizer:  # a new method continues from here with fresh state
            self.optimizer = optimizers.make(new.optimizer, self.model.parameters(), lr=new.lr,
                                             **dict(new.optimizer_params))
        else:
            defaults = type(self.optimizer).defaults
            self.optimizer.set(**{**defaults, **dict(new.optimizer_params), "lr": new.lr})
        if not needs_reset and new.batch_size != old.batch_size:  # the running window is an epoch
            self._batches = deque(self._batches, maxlen=self.batches_per_epoch)
        return needs_reset

    # ----- training -----------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.X_train) / self.config.batch_size)

    def step(self, n: int = 1) -> int:
        """Run up to n mini-batch updates; returns how many ran (fewer once diverged)."""
        c = self.config
        ran, n_train = 0, len(self.X_train)
        with np.errstate(all="ignore"):  # a diverging run becomes a state, not warnings
            while ran < n and not self.diverged:
                bs, pos = c.batch_size, self._pos
                x, y = self._X_epoch[pos : pos + bs], self._y_epoch[pos : pos + bs]
                if c.augment_shift or c.augment_noise:
                    x = augment.augment(x, c.augment_shift, c.augment_noise, self._noise_rng)
                tr = self.model.loss_and_grads(x, y, train=True)
                self._batches.append((tr.loss * len(y), int((tr.probs.argmax(axis=1) == y).sum()), len(y)))
                before = self._weights() if ran == n - 1 else None
                self.optimizer.step(self.model.gradients())
                if before is not None:
                    self.last_update = update_ratios(before, self._weights())
                ran += 1
                self.step_count += 1
                self.trace = tr
                self._pos = pos + bs
                if not math.isfinite(tr.loss):
                    self.diverged = True
                if self._pos >= n_train:
                    self._pos = 0
                    self.epoch += 1
                    self._shuffle()
                    self._record()
        return ran

    def run_epochs(self, n: int = 1) -> int:
        """Train until n more epochs have completed (or divergence)."""
        target, ran = self.epoch + n, 0
        while self.epoch < target and not self.diverged:
            ran += self.step(self.batches_per_epoch - self._pos // self.config.batch_size)
        return ran

    def _weights(self) -> dict[str, list[Array]]:
        return {name: [p.copy() for p in layer.params.values()]
                for name, layer in self.model.leaves() if layer.params}

    # ----- reading ------------------------------------------------------------------------
    def test_evaluation(self) -> SetEvaluation:
        """Probabilities, predictions, loss, accuracy and confusion of the test set (cached per step)."""
        e = self._test_eval
        if e is None or e.step != self.step_count:
            with np.errstate(all="ignore"):
                e = self._test_eval = evaluate(self.model, self.X_test, self.y_test, self.data.num_classes,
                                               self.step_count)
        return e

    def train_evaluation(self) -> SetEvaluation:
        """The same, exact, over the whole training set (as costly as half an epoch of training)."""
        e = self._train_eval
        if e is None or e.step != self.step_count:
            with np.errstate(all="ignore"):
                e = self._train_eval = evaluate(self.model, self.X_train, self.y_train,
                                                self.data.num_classes, self.step_count)
        return e

    def metrics(self) -> ImageMetrics:
        test = self.test_evaluation()
        if self._batches:
            loss, correct, n = (sum(col) for col in zip(*self._batches, strict=True))
            train_loss, train_acc = loss / n, correct / n
        else:
            train = self.train_evaluation()
            train_loss, train_acc = train.loss, train.accuracy
        if not math.isfinite(train_loss):
            self.diverged = True
        return ImageMetrics(self.step_count, self.epoch, train_loss, test.loss, train_acc, test.accuracy,
                            self.diverged)

    def _record(self) -> None:
        m, h = self.metrics(), self.history
        for name in ("steps", "epochs", "train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            getattr(h, name).append(getattr(m, {"steps": "step", "epochs": "epoch"}.get(name, name)))

    def confusion(self) -> Array:
        """(K, K) counts on the test set: row = true class, column = predicted class."""
        return self.test_evaluation().confusion

    def confusion_examples(self, true: int, predicted: int) -> Array:
        """Indices into X_test of the test images of class `true` predicted as `predicted`."""
        return np.flatnonzero((self.y_test == true) & (self.test_evaluation().predictions == predicted))

    def predict(self, images: Array) -> Array:
        """Class probabilities (N, K) for images (N, C, H, W) in [0, 1], evaluation mode."""
        with np.errstate(all="ignore"):
            return self.model.predict(np.asarray(images, dtype=np.float64))

    def example(self, image: Array) -> Trace:
        """One image (C, H, W) through the network in evaluation mode: every layer's feature
        maps in `trace.walk()` and the class probabilities in `trace.probs` (1, K)."""
        x = np.asarray(image, dtype=np.float64)[None]
        with np.errstate(all="ignore"):
            probs = self.model.predict(x)
        tr = self.model.trace()
        tr.probs = probs
        return tr

    def filters(self) -> dict[str, Array]:
        """The live kernels (D, C, kh, kw) of every convolution, by layer name."""
        return {name: layer.params["w"] for name, layer in self.model.leaves() if layer.kind == "conv2d"}

    def grad_norms(self) -> dict[str, float]:
        """‖dL/dθ‖ per layer of the last mini-batch ({} before the first step)."""
        return self.trace.grad_norms() if self.trace is not None else {}

    def summary(self) -> list[LayerSummary]:
        return summarize(self.model, self.data.image_shape)
