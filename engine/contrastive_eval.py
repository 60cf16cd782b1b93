"""Does contrastive training work? The linear-probe table and the τ / N sweep.

The table compares three encoders of one architecture, read by the same linear probe
(engine.probe, on h = f(x)) trained with 1 %, 10 % or 100 % of the training labels and scored
on the held-out test set:
- contrastive: the encoder as contrastive training left it (no label used to train it),
- random: the same encoder at its initial weights, never trained,
- supervised: the same encoder, from the same initial weights, trained with the labels the
  probe may use (cross-entropy through a dense output layer, `SUPERVISED_STEPS` Adam steps on
  the labelled images, augmented like the contrastive views), then read by the probe.
A fraction below 100 % is `DRAWS` random labelled subsets (stratified, from the seed); a cell
is the mean test accuracy over them. `probe_cells` yields the cells one at a time, cheapest
first, so a page can fill the table while the supervised runs train. It reads a `Frozen`
copy of the run (`freeze(trainer)`), so training may go on while a table is computed.

`sweep_points` trains short runs from the same seed, one setting changed (τ or N), and yields
each run's probe accuracy: the questions users of SimCLR ask, answered by experiment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from engine import optimizers, probe, views
from engine.contrastive_trainer import ContrastiveConfig, ContrastiveTrainer, build_networks, embed
from engine.nn import Dense, Sequential, softmax_cross_entropy

Array = np.ndarray
FRACTIONS = (0.01, 0.1, 1.0)
ROWS = ("contrastive", "random", "supervised")
DRAWS = 3
SUPERVISED_STEPS = 150
SUPERVISED_BATCH = 32


@dataclass(frozen=True)
class Cell:
    row: str  # "contrastive" | "random" | "supervised"
    fraction: float
    accuracy: float  # mean over draws
    accuracies: tuple[float, ...]  # one per labelled draw
    labelled: int  # labelled images per draw


def train_supervised(config: ContrastiveConfig, images: Array, labels: Array, num_classes: int,
                     seed: int, steps: int = SUPERVISED_STEPS) -> Sequential:
    """The contrastive run's encoder (same initial weights) trained with labels; returns it."""
    init = np.random.default_rng([config.seed, 1])
    encoder, _ = build_networks(config, images.shape[1:], init)  # the draws of ContrastiveTrainer
    h_dim = encoder.output_shape(images.shape[1:])[0]
    out = Dense(h_dim, num_classes, rng=np.random.default_rng([config.seed, 6]))
    params = [*encoder.parameters(), out.params["W"], out.params["b"]]
    opt = optimizers.make("adam", params, lr=config.lr)
    rng = np.random.default_rng([seed, 7])
    bs = min(SUPERVISED_BATCH, len(images))
    with np.errstate(all="ignore"):
        for _ in range(steps):
            idx = rng.choice(len(images), size=bs, replace=False)
            x = views.apply(images[idx], config.augmentation, rng)
            h = encoder.forward(x, train=True)
            _, dlogits, _ = softmax_cross_entropy(out.forward(h, train=True), labels[idx])
            encoder.backward(out.backward(dlogits))
            opt.step([*encoder.gradients(), out.grads["W"], out.grads["b"]])
    return encoder


@dataclass(frozen=True)
class Frozen:
    """What the probe table needs of a run, copied at one step."""

    config: ContrastiveConfig
    step: int
    image_shape: tuple[int, ...]
    num_classes: int
    X_train: Array
    y_train: Array
    X_test: Array
    y_test: Array
    encoder: tuple[Array, ...]  # the encoder's weights at `step`
    initial: tuple[Array, ...]  # and at step 0


def freeze(trainer: ContrastiveTrainer) -> Frozen:
    """A copy of the run's encoder weights, with its (never modified) data and config."""
    return Frozen(trainer.config, trainer.step_count, trainer.data.image_shape, trainer.data.num_classes,
                  trainer.X_train, trainer.y_train, trainer.X_test, trainer.y_test,
                  tuple(p.copy() for p in trainer.encoder.parameters()), tuple(trainer.initial_encoder))


def probe_cells(run: ContrastiveTrainer | Frozen, fractions: Sequence[float] = FRACTIONS,
                rows: Sequence[str] = ROWS, draws: int = DRAWS) -> Iterator[Cell]:
    """The table's cells, contrastive and random first (a probe each), supervised last (a
    training run per draw)."""
    run = freeze(run) if isinstance(run, ContrastiveTrainer) else run
    c, K = run.config, run.num_classes
    X_tr, y_tr, X_te, y_te = run.X_train, run.y_train, run.X_test, run.y_test
    subsets = {f: [probe.labelled_subset(y_tr, f, np.random.default_rng([c.seed, 8, k]))
                   for k in range(draws if f < 1.0 else 1)] for f in fractions}

    def cell(row: str, f: float, features: Callable[[int], tuple[Array, Array]]) -> Cell:
        accs = []
        for k, idx in enumerate(subsets[f]):
            F_tr, F_te = features(k)
            p = probe.fit(F_tr[idx], y_tr[idx], K, probe.standardizer(F_tr))
            accs.append(p.accuracy(F_te, y_te))
        return Cell(row, f, float(np.mean(accs)), tuple(accs), len(subsets[f][0]))

    for row in [r for r in ROWS if r in rows and r != "supervised"]:
        encoder = _encoder_with(run, run.encoder if row == "contrastive" else run.initial)
        F = embed(encoder, None, X_tr)[0], embed(encoder, None, X_te)[0]
        for f in fractions:
            yield cell(row, f, lambda _k, F=F: F)
    if "supervised" in rows:
        for f in fractions:
            def features(k: int, f: float = f) -> tuple[Array, Array]:
                idx = subsets[f][k]
                enc = train_supervised(c, X_tr[idx], y_tr[idx], K, seed=c.seed * 1000 + k)
                return embed(enc, None, X_tr)[0], embed(enc, None, X_te)[0]
            yield cell("supervised", f, features)


def _encoder_with(run: Frozen, params: Sequence[Array]) -> Sequential:
    twin, _ = build_networks(run.config, run.image_shape, np.random.default_rng(0))
    for p, q in zip(twin.parameters(), params, strict=True):
        p[...] = q
    return twin


@dataclass(frozen=True)
class SweepPoint:
    param: str  # "tau" | "batch_size"
    value: float
    accuracy: float  # linear probe, `fraction` of the labels
    loss: float  # mean batch loss over the run's last 20 steps
    alignment: float
    uniformity: float
    diverged: bool


def sweep_points(config: ContrastiveConfig, taus: Sequence[float], batch_sizes: Sequence[int],
                 steps: int, fraction: float = 0.1, should_stop: Callable[[], bool] = lambda: False,
                 on_steps: Callable[[int, int], None] = lambda run, done: None) -> Iterator[SweepPoint]:
    """One short run per τ (at the config's N), then one per N (at the config's τ), each
    `steps` steps from the config's seed, probed with `fraction` of the labels.
    `should_stop()` is asked every 10 steps; `on_steps(run, steps done)` hears progress."""
    runs = [("tau", float(t)) for t in taus] + [("batch_size", int(n)) for n in batch_sizes]
    for k, (param, value) in enumerate(runs):
        if should_stop():
            return
        trainer = ContrastiveTrainer(config.with_changes(**{param: value}))
        while trainer.step_count < steps and not trainer.diverged:
            if should_stop():
                return
            trainer.step(min(10, steps - trainer.step_count))
            on_steps(k, trainer.step_count)
        ev = trainer.evaluate()
        align = trainer.alignment()
        acc = float("nan")
        if not trainer.diverged:
            cell = next(probe_cells(trainer, (fraction,), ("contrastive",), draws=DRAWS))
            acc = cell.accuracy
        tail = trainer.history.loss[-20:]
        yield SweepPoint(param, value, acc, float(np.mean(tail)) if tail else float("nan"),
                         align, ev.uniformity, trainer.diverged)
