"""Deep networks trained side by side in lockstep: the depth lab's engine.

`DepthTrainer(config)` loads one dataset and builds one network per NetSpec of
`config.networks` (engine.deepnet), all of the same depth and width, each with its own
optimizer of the same kind and hyperparameters. Every network's weights come from the same
seed, so networks that share an initializer start from identical weights: a plain network and
its residual twin differ only by their skip connections. Each step draws one mini-batch
(epochs shuffled by one seeded order) and trains every network that has not diverged on it:
the same data in the same order for all, however many steps a page asks for at a time.

A network whose loss becomes NaN or infinite stops training (`Run.diverged_at` holds the
step): a state, never an exception; the others go on, and its readings stay those of its last
finite step. `readings(k)` gives the per-layer numbers of network k's last step
(engine.layer_readings), available before any training too: building a network runs one
forward and backward pass on the first batch without updating anything.

Metrics: the training loss and accuracy are running means over the last epoch's mini-batches
(what was trained on, free); the test set is evaluated exactly when asked, once per step at
most, or (`metrics(test_max_age=…)`, what a stream's frames use) reused while at most that many
steps old: a pass over the test set costs several training steps. History: every ⌈epoch / 4⌉
steps, the mean training loss and accuracy of each network's mini-batches since the previous
record (step 0: an exact pass over the training set).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine import layer_readings, optimizers
from engine.deepnet import NetSpec, activation_layers, build, dense_layers
from engine.depth_data import load_data
from engine.image_eval import SetEvaluation, evaluate
from engine.layer_readings import LayerReadings
from engine.nn import Sequential, Trace

Array = np.ndarray
PLAIN_VS_RESIDUAL = (NetSpec("sigmoid", "xavier", False, False), NetSpec("sigmoid", "xavier", True, False))


@dataclass(frozen=True)
class DepthConfig:
    dataset: str = "digits"
    n_points: int = 500  # 2-D sets only
    noise: float = 0.0  # 2-D sets only: 0 … 0.5
    train_ratio: float = 0.8
    seed: int = 0
    depth: int = 30  # hidden layers
    width: int = 16  # units per hidden layer
    networks: tuple[NetSpec, ...] = PLAIN_VS_RESIDUAL
    optimizer: str = "sgd"
    lr: float = 0.1
    optimizer_params: tuple[tuple[str, Any], ...] = ()
    batch_size: int = 32

    # What changes the data, the networks or their initial weights: a new run.
    RESET_FIELDS = frozenset({"dataset", "n_points", "noise", "train_ratio", "seed", "depth", "width",
                              "networks"})

    def with_changes(self, **changes: Any) -> DepthConfig:
        return replace(self, **changes)


@dataclass
class Run:
    """One network of the comparison and what its training has produced."""

    spec: NetSpec
    model: Sequential
    optimizer: optimizers.Optimizer
    trace: Trace  # the last finite step (or the pass at initialization)
    ratios: Array | None = None  # ‖ΔW‖/‖W‖ per dense layer, of the last step of the last call
    diverged_at: int | None = None
    batches: deque = field(default_factory=deque)  # (loss · n, correct, n) over the last epoch
    since_record: list = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)  # names of every layer, nested ones included
    names: tuple[list[str], list[str]] = ([], [])  # the dense and the activation layers' names
    num_parameters: int = 0
    test_eval: SetEvaluation | None = None  # of the step it was made at (its .step)
    cached: tuple[int, LayerReadings] | None = None  # (step, readings) of the last `readings`

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


@dataclass
class RunMetrics:
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    test_step: int  # the step the test numbers are from
    diverged: bool
    diverged_at: int | None
    verdict: str  # "guessing" (no better than the class frequencies), "learning" or "diverged"


@dataclass
class DepthHistory:
    steps: list[int] = field(default_factory=list)
    train_loss: list[list[float]] = field(default_factory=list)  # per network
    train_accuracy: list[list[float]] = field(default_factory=list)


class DepthTrainer:
    def __init__(self, config: DepthConfig) -> None:
        self.config = config
        self._build()

    # ----- construction -------------------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        if not c.networks:
            raise ValueError("give at least one network")
        self.data = load_data(c.dataset, c.n_points, c.noise, c.seed, c.train_ratio)
        if len(self.data.X_test) == 0:
            raise ValueError("the test set is empty: lower train_ratio")
        self._order_rng = np.random.default_rng([c.seed, 2])
        self.step_count = self.epoch = self._pos = 0
        self._shuffle()
        self.runs = [self._make_run(spec) for spec in c.networks]
        self.history = DepthHistory(train_loss=[[] for _ in self.runs],
                                    train_accuracy=[[] for _ in self.runs])
        with np.errstate(all="ignore"):
            for k, run in enumerate(self.runs):
                e = evaluate(run.model, self.data.X_train, self.data.y_train, len(self.data.classes))
                self.history.train_loss[k].append(e.loss)
                self.history.train_accuracy[k].append(e.accuracy)
        self.history.steps.append(0)

    def _make_run(self, spec: NetSpec) -> Run:
        c, d = self.config, self.data
        model = build(d.n_in, len(d.classes), c.depth, c.width, spec, np.random.default_rng([c.seed, 1]))
        opt = optimizers.make(c.optimizer, model.parameters(), lr=c.lr, **dict(c.optimizer_params))
        with np.errstate(all="ignore"):  # the readings at initialization: no update, BN as new
            trace = model.loss_and_grads(self._X_epoch[: c.batch_size], self._y_epoch[: c.batch_size])
        for _, layer in model.leaves():
            if layer.kind == "batchnorm":
                layer.running_mean = np.zeros(layer.num_features)
                layer.running_var = np.ones(layer.num_features)
        run = Run(spec, model, opt, trace, batches=deque(maxlen=self.batches_per_epoch),
                  leaves=[name for name, _ in model.leaves()], num_parameters=model.num_parameters,
                  names=([n for n, _ in dense_layers(model)], [n for n, _ in activation_layers(model)]))
        if not math.isfinite(trace.loss):
            run.diverged_at = 0
        return run

    def _shuffle(self) -> None:
        perm = self._order_rng.permutation(len(self.data.X_train))
        self._X_epoch, self._y_epoch = self.data.X_train[perm], self.data.y_train[perm]

    def reset(self) -> None:
        """Start over from the config's seed: same data, same initial weights."""
        self._build()

    def update(self, **changes: Any) -> bool:
        """Apply config changes; True when they started a new run (see RESET_FIELDS)."""
        new = self.config.with_changes(**changes)
        needs_reset = any(getattr(new, k) != getattr(self.config, k) for k in DepthConfig.RESET_FIELDS)
        old, self.config = self.config, new
        if needs_reset:
            self._build()
            return True
        for run in self.runs:
            if new.optimizer != old.optimizer:  # a new method continues from here, fresh state
                run.optimizer = optimizers.make(new.optimizer, run.model.parameters(), lr=new.lr,
                                                **dict(new.optimizer_params))
            else:
                defaults = type(run.optimizer).defaults
                run.optimizer.set(**{**defaults, **dict(new.optimizer_params), "lr": new.lr})
            if new.batch_size != old.batch_size:  # the running window is an epoch
                run.batches = deque(run.batches, maxlen=self.batches_per_epoch)
        return False

    # ----- training -----------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.data.X_train) / self.config.batch_size)

    @property
    def record_every(self) -> int:
        return max(1, math.ceil(self.batches_per_epoch / 4))

    @property
    def done(self) -> bool:
        """Every network diverged: nothing is left to train."""
        return all(run.diverged for run in self.runs)

    def step(self, n: int = 1) -> int:
        """Up to n mini-batch steps of every live network; returns how many ran."""
        ran, n_train = 0, len(self.data.X_train)
        with np.errstate(all="ignore"):  # a diverging network becomes a state, not warnings
            while ran < n and not self.done:
                bs, pos = self.config.batch_size, self._pos
                x, y = self._X_epoch[pos : pos + bs], self._y_epoch[pos : pos + bs]
                self.step_count += 1
                for run in self.runs:
                    if not run.diverged:
                        self._train(run, x, y, measure=ran == n - 1)
                ran += 1
                self._pos = pos + bs
                if self._pos >= n_train:
                    self._pos = 0
                    self.epoch += 1
                    self._shuffle()
                if self.step_count % self.record_every == 0:
                    self._record()
        return ran

    def _train(self, run: Run, x: Array, y: Array, measure: bool) -> None:
        tr = run.model.loss_and_grads(x, y, train=True)
        if not math.isfinite(tr.loss):
            run.diverged_at = self.step_count
            return
        before = layer_readings.weights(run.model) if measure else None
        run.optimizer.step(run.model.gradients())
        if before is not None:
            run.ratios = layer_readings.update_ratios(before, run.model)
        run.trace = tr
        row = (tr.loss * len(y), int((tr.probs.argmax(axis=1) == y).sum()), len(y))
        run.batches.append(row)
        run.since_record.append(row)
        run.cached = None

    def _record(self) -> None:
        self.history.steps.append(self.step_count)
        for k, run in enumerate(self.runs):
            rows, run.since_record = run.since_record, []
            loss = acc = float("nan")
            if rows and not run.diverged:
                loss, correct, total = (sum(col) for col in zip(*rows, strict=True))
                loss, acc = loss / total, correct / total
            self.history.train_loss[k].append(loss)
            self.history.train_accuracy[k].append(acc)

    # ----- reading ------------------------------------------------------------------------
    def readings(self, k: int) -> LayerReadings:
        """Network k's per-layer numbers of its last step (computed once per step)."""
        run = self.runs[k]
        if run.cached is None or run.cached[0] != self.step_count:
            run.cached = (self.step_count, layer_readings.read(run.model, run.trace, run.spec.activation,
                                                               run.ratios, names=run.names))
        return run.cached[1]

    def test_evaluation(self, k: int, max_age: int = 0) -> SetEvaluation:
        """Network k on the test set, evaluated now unless the last evaluation is at most
        `max_age` steps old (and the weights have not been replaced since)."""
        run = self.runs[k]
        if run.test_eval is None or self.step_count - run.test_eval.step > max_age:
            with np.errstate(all="ignore"):
                d = self.data
                run.test_eval = evaluate(run.model, d.X_test, d.y_test, len(d.classes), self.step_count)
        return run.test_eval

    def metrics(self, test_max_age: int = 0) -> list[RunMetrics]:
        """Per network; the test numbers at most `test_max_age` steps old (see test_evaluation)."""
        out = []
        chance = self.data.chance_loss
        for k, run in enumerate(self.runs):
            test = self.test_evaluation(k, test_max_age)
            if run.batches:
                loss, correct, total = (sum(col) for col in zip(*run.batches, strict=True))
                train_loss, train_acc = loss / total, correct / total
            else:
                train_loss, train_acc = self.history.train_loss[k][0], self.history.train_accuracy[k][0]
            if run.diverged:
                verdict = "diverged"
            elif not math.isfinite(train_loss) or train_loss >= 0.97 * chance:
                verdict = "guessing"
            else:
                verdict = "learning"
            out.append(RunMetrics(train_loss, train_acc, test.loss, test.accuracy, test.step, run.diverged,
                                  run.diverged_at, verdict))
        return out

    def parameters(self, k: int) -> list[Array]:
        """Network k's parameter arrays (live), in Sequential.parameters() order."""
        return self.runs[k].model.parameters()

    def set_parameters(self, k: int, values: list[Array]) -> None:
        """Replace network k's parameters (an imported run); ValueError on a shape mismatch."""
        params = self.parameters(k)
        if len(values) != len(params):
            raise ValueError(f"network {k} has {len(params)} parameter arrays, got {len(values)}")
        for i, (p, v) in enumerate(zip(params, values, strict=True)):
            v = np.asarray(v, dtype=np.float64)
            if v.shape != p.shape:
                raise ValueError(f"network {k}, parameter {i}: shape {p.shape} expected, got {v.shape}")
            if not np.isfinite(v).all():
                raise ValueError(f"network {k}, parameter {i}: values must be finite")
        for p, v in zip(params, values, strict=True):
            p[...] = v
        self.runs[k].test_eval = self.runs[k].cached = None
