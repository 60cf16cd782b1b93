"""Contrastive training without labels (SimCLR): an encoder and a projection head learn to pull
two views of an image together and push the batch's other images away.

Each step draws N training images (an epoch is a pass, reshuffled every epoch), makes two views
of each (engine.views), runs the 2N views through the encoder f (a small CNN or MLP of the layer
library, h = f(x)) and the projection head g (dense → ReLU → dense → L2-normalise,
z = g(h)), and takes one optimizer step on NT-Xent (engine.contrastive) at temperature τ:
    dL/dz from nt_xent → head.backward → encoder.backward → optimizer.step.
The labels are never read in training. They only colour the held-out picture and score the
linear probe (engine.contrastive_eval), which reads h, the encoder's output, as SimCLR does.

The held-out set (the test split) is embedded whenever asked (once per step at most): its 2-D
PCA view (turned to match the previous one, so the picture moves smoothly) and the uniformity
of its embeddings (engine.embedding). Every `EVAL_EVERY` steps the history also records the
alignment over two fixed views of the first ALIGNMENT_IMAGES held-out images (kept off frames).
A non-finite loss sets `diverged`, a state, not an exception.
Separate Generators from the seed draw the split, the weights, the batch order and the views,
so changing an augmentation leaves the batch order and the initial weights as they were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from engine import embedding, image_data, optimizers, views
from engine.contrastive import NTXent, nt_xent
from engine.nn import Sequential
from engine.nn.build import build
from engine.nn.summary import summarize

Array = np.ndarray
EVAL_EVERY = 25  # steps between two records of the held-out metrics
ALIGNMENT_IMAGES = 128  # held-out images whose two fixed views measure the alignment
CHUNK = 512  # images per forward pass when embedding a whole set

ENCODERS: dict[str, tuple[dict[str, Any], ...]] = {
    # 8×8 → 8×4×4 → 16×2×2 → h, a summary of 16 numbers per image
    "cnn": (
        {"type": "conv", "filters": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
        {"type": "maxpool", "size": 2},
        {"type": "conv", "filters": 16, "kernel": 3, "padding": 1}, {"type": "relu"},
        {"type": "maxpool", "size": 2},
        {"type": "dense", "units": 16}, {"type": "relu"},
    ),
    # 64 pixels → 64 → h of 16
    "mlp": ({"type": "dense", "units": 64}, {"type": "relu"},
            {"type": "dense", "units": 16}, {"type": "relu"}),
}


@dataclass(frozen=True)
class ContrastiveConfig:
    dataset: str = "digits"
    n_images: int = 1000  # shapes only
    image_size: int = 12  # shapes only
    noise: float = 0.1  # shapes only
    train_ratio: float = 0.8
    seed: int = 0
    encoder: str = "cnn"
    head_hidden: int = 32
    embed_dim: int = 16
    tau: float = 0.2
    batch_size: int = 32  # N images, 2N views
    optimizer: str = "adam"
    lr: float = 0.01
    augmentation: views.Augmentation = field(default_factory=views.Augmentation)

    # What changes the data, the networks or their initial weights: a new run.
    RESET_FIELDS = frozenset({"dataset", "n_images", "image_size", "noise", "train_ratio", "seed",
                              "encoder", "head_hidden", "embed_dim"})

    def with_changes(self, **changes: Any) -> ContrastiveConfig:
        return replace(self, **changes)


LIVE_FIELDS = frozenset(f.name for f in fields(ContrastiveConfig)) - ContrastiveConfig.RESET_FIELDS


@dataclass
class Batch:
    """The last batch: its 2N views, their embeddings and the loss on them."""

    step: int  # the step it was drawn for (its loss is that step's, before the update)
    indices: Array  # (N,) rows of X_train
    views: Array  # (2N, C, H, W) [view 1; view 2]
    z: Array  # (2N, d)
    result: NTXent


@dataclass
class Evaluation:
    step: int
    h: Array  # (M, F) encoder outputs of the held-out images
    z: Array  # (M, d) their normalised embeddings
    coords: Array  # (M, 2) 2-D view, turned to match the previous one
    explained: Array  # (2,) variance ratio of the two PCA axes
    uniformity: float


@dataclass
class History:
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)  # batch loss of every step
    eval_steps: list[int] = field(default_factory=list)
    alignment: list[float] = field(default_factory=list)
    uniformity: list[float] = field(default_factory=list)

    def loss_curve(self, most: int) -> tuple[Array, Array]:
        """(steps, losses) in at most `most` bins of consecutive steps: each bin's last step and
        mean loss (one batch's loss is noisy; the mean over a bin shows the trend)."""
        n = len(self.loss)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        edges = np.unique(np.linspace(0, n, min(n, most) + 1).round().astype(np.int64))
        loss = np.asarray(self.loss, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            means = np.add.reduceat(loss, edges[:-1]) / np.diff(edges)
        return np.asarray(self.steps, dtype=np.int64)[edges[1:] - 1], means


def build_networks(c: ContrastiveConfig, image_shape: tuple[int, ...], rng: np.random.Generator
                   ) -> tuple[Sequential, Sequential]:
    if c.encoder not in ENCODERS:
        raise KeyError(f"unknown encoder {c.encoder!r}; choose one of {list(ENCODERS)}")
    encoder = build(ENCODERS[c.encoder], image_shape, rng=rng, input_grad=False)
    h_shape = encoder.output_shape(image_shape)
    head = build([{"type": "dense", "units": c.head_hidden}, {"type": "relu"},
                  {"type": "dense", "units": c.embed_dim}, {"type": "normalize"}], h_shape, rng=rng)
    return encoder, head


def embed(encoder: Sequential, head: Sequential | None, images: Array) -> tuple[Array, Array | None]:
    """(h, z) of a set of images in evaluation mode, CHUNK images at a time (z None without a head)."""
    hs, zs = [], []
    with np.errstate(all="ignore"):
        for s in range(0, len(images), CHUNK):
            h = encoder.forward(images[s : s + CHUNK], train=False)
            hs.append(h)
            if head is not None:
                zs.append(head.forward(h, train=False))
    return np.concatenate(hs), (np.concatenate(zs) if head is not None else None)


class ContrastiveTrainer:
    def __init__(self, config: ContrastiveConfig) -> None:
        self.config = config
        self._build()

    # ----- construction -------------------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        split_rng, init_rng, self._order_rng, self._view_rng, eval_rng = (
            np.random.default_rng([c.seed, k]) for k in range(5))
        self.data = image_data.load(c.dataset, c.n_images, c.image_size, c.noise, c.seed)
        self.X_train, self.y_train, self.X_test, self.y_test = image_data.split(
            self.data.images, self.data.labels, c.train_ratio, split_rng)
        if len(self.X_train) < c.batch_size or len(self.X_test) < 2:
            raise ValueError(f"{len(self.X_train)} training images cannot fill a batch of {c.batch_size}"
                             " (and the held-out set needs 2): lower batch_size or raise train_ratio")
        self.encoder, self.head = build_networks(c, self.data.image_shape, init_rng)
        self.initial_encoder = [p.copy() for p in self.encoder.parameters()]
        self.optimizer = optimizers.make(c.optimizer, self.parameters(), lr=c.lr)
        # Two fixed views of held-out images: alignment is measured on the same pairs each time.
        self._test_views = views.two_views(self.X_test[:ALIGNMENT_IMAGES], c.augmentation, eval_rng)
        self.step_count = 0
        self.epoch = 0
        self._pos = 0
        self._perm = self._order_rng.permutation(len(self.X_train))
        self.diverged = False
        self.history = History()
        self._eval: Evaluation | None = None
        self._coords: Array | None = None
        self.batch = self._draw_batch(update=False)
        self._record_eval()

    def reset(self) -> None:
        self._build()

    def update(self, **changes: Any) -> bool:
        """Apply config changes; True when they started a new run (RESET_FIELDS)."""
        new = self.config.with_changes(**changes)
        needs_reset = any(getattr(new, k) != getattr(self.config, k) for k in ContrastiveConfig.RESET_FIELDS)
        old, self.config = self.config, new
        if needs_reset:
            self._build()
            return True
        if new.optimizer != old.optimizer:
            self.optimizer = optimizers.make(new.optimizer, self.parameters(), lr=new.lr)
        elif new.lr != old.lr:
            self.optimizer.set(lr=new.lr)
        if (new.tau, new.batch_size, new.augmentation) != (old.tau, old.batch_size, old.augmentation):
            if new.batch_size > len(self.X_train):
                self.config = old
                raise ValueError(f"batch_size at most {len(self.X_train)} (the training images)")
            self.batch = self._draw_batch(update=False)  # the picture shows the new setting at once
        return False

    def parameters(self) -> list[Array]:
        return self.encoder.parameters() + self.head.parameters()

    # ----- training -----------------------------------------------------------------------
    def _next_indices(self) -> Array:
        N = self.config.batch_size
        if self._pos + N > len(self._perm):  # a new epoch: the last partial batch is dropped
            self._perm = self._order_rng.permutation(len(self.X_train))
            self._pos = 0
            self.epoch += 1
        idx = self._perm[self._pos : self._pos + N]
        self._pos += N
        return idx

    def _draw_batch(self, update: bool) -> Batch:
        """Views of the next N images through both networks; with `update`, one optimizer step."""
        c = self.config
        if update:
            idx, rng = self._next_indices(), self._view_rng
        else:  # a preview of the next images; its own draws leave the training stream alone
            idx = self._perm[self._pos : self._pos + c.batch_size]
            rng = np.random.default_rng([c.seed, 5, self.step_count])
        v1, v2 = views.two_views(self.X_train[idx], c.augmentation, rng)
        x = np.concatenate([v1, v2])
        with np.errstate(all="ignore"):
            h = self.encoder.forward(x, train=update)
            z = self.head.forward(h, train=update)
            result = nt_xent(z, c.tau)
            if update and math.isfinite(result.loss):
                self.encoder.backward(self.head.backward(result.grad))
                self.optimizer.step(self.encoder.gradients() + self.head.gradients())
        return Batch(self.step_count, idx, x, z, result)

    def step(self, n: int = 1) -> int:
        """Run up to n contrastive steps; returns how many ran (fewer once diverged)."""
        ran = 0
        while ran < n and not self.diverged:
            batch = self._draw_batch(update=True)
            self.batch = batch
            self.history.steps.append(self.step_count)
            self.history.loss.append(batch.result.loss)
            self.step_count += 1
            ran += 1
            finite = math.isfinite(batch.result.loss) and all(np.isfinite(p).all() for p in self.parameters())
            if not finite:
                self.diverged = True
            if self.step_count % EVAL_EVERY == 0 and not self.diverged:
                self._record_eval()
        return ran

    # ----- reading ------------------------------------------------------------------------
    def evaluate(self) -> Evaluation:
        """The held-out set's embeddings, 2-D view and uniformity (cached per step)."""
        if self._eval is not None and self._eval.step == self.step_count:
            return self._eval
        h, z = embed(self.encoder, self.head, self.X_test)
        finite = np.isfinite(z).all()
        coords, explained = np.zeros((len(z), 2)), np.zeros(2)
        if finite:
            coords, _, explained = embedding.pca_2d(z)
            if self._coords is not None and len(self._coords) == len(coords):
                coords = embedding.procrustes(coords, self._coords)
            self._coords = coords
        ev = Evaluation(self.step_count, h, z, coords, explained,
                        embedding.uniformity(z) if finite else float("nan"))
        self._eval = ev
        return ev

    def alignment(self) -> float:
        """Alignment of the held-out images' two fixed views at this step."""
        za = embed(self.encoder, self.head, self._test_views[0])[1]
        zb = embed(self.encoder, self.head, self._test_views[1])[1]
        finite = np.isfinite(za).all() and np.isfinite(zb).all()
        return embedding.alignment(za, zb) if finite else float("nan")

    def _record_eval(self) -> None:
        ev, h = self.evaluate(), self.history
        h.eval_steps.append(ev.step)
        h.alignment.append(self.alignment())
        h.uniformity.append(ev.uniformity)

    def features(self, images: Array, initial: bool = False) -> Array:
        """h = f(x) of images in evaluation mode; `initial`: with the encoder's initial weights."""
        if not initial:
            return embed(self.encoder, None, images)[0]
        twin, _ = build_networks(self.config, self.data.image_shape, np.random.default_rng(0))
        for p, q in zip(twin.parameters(), self.initial_encoder, strict=True):
            p[...] = q
        return embed(twin, None, images)[0]

    def step_cost(self) -> int:
        """Multiply-accumulates of one step's forward pass: 2N views × (encoder + head) per view."""
        macs = sum(r.macs for r in summarize(self.encoder, self.data.image_shape))
        macs += sum(r.macs for r in summarize(self.head, self.encoder.output_shape(self.data.image_shape)))
        return 2 * self.config.batch_size * max(1, macs)
