"""Mini-batch training of an MLP on a 2-D dataset: the engine behind the playground lab.

`Trainer(config)` builds data, features, network and optimizer from one seed, so the same
config gives the same run anywhere. `step(n)` runs n mini-batch updates (an epoch is one pass
over the shuffled training set, reshuffled every epoch); `trace` is the last update's forward
and backward pass (its batch: `trace_rows` of the training set, `trace_targets`); `metrics()`
the train/test loss and accuracy; `diagnosis()` what holds the run back (engine.diagnosis);
`grids(res)` the output and every neuron over the input plane. A NaN or inf stops training
and sets `diverged`.

The updates run in engine.fused's compiled loop when it covers the configuration (and
`compiled` is on): the same maths as the NumPy engine, tested against it; `trace` is then worked
out by the NumPy engine when read, from the weights before the last update.

Points given as `added` (clicked into the plot) always train: they join the training set after
the split, and changing them mid-run keeps the weights, the epoch and the history.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from engine import datasets, diagnosis, features, fused, losses, optimizers
from engine.mlp import MLP, Trace, check_parameters

Array = np.ndarray


@dataclass(frozen=True)
class MLPConfig:
    dataset: str = "circle"
    n_points: int = 500
    noise: float = 0.0  # 0 … 0.5, the TF Playground's slider / 100
    train_ratio: float = 0.5
    seed: int = 0
    num_classes: int = 3  # for the multi-class datasets
    points: tuple[tuple[float, float, float], ...] | None = None  # user data (x1, x2, label)
    added: tuple[tuple[float, float, float], ...] | None = None  # always trained on, after the split
    problem: str | None = None  # derived from the dataset when None
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    loss: str | None = None  # squared for two classes/regression, softmax_ce for K classes
    init: str = "tf_uniform"
    optimizer: str = "sgd"
    lr: float = 0.03
    optimizer_params: tuple[tuple[str, Any], ...] = ()
    batch_size: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0

    @property
    def resolved_problem(self) -> str:
        return self.problem or datasets.get(self.dataset).problem

    @property
    def resolved_loss(self) -> str:
        if self.loss:
            return self.loss
        return "softmax_ce" if self.resolved_problem == "multiclass" else "squared"

    @property
    def sizes(self) -> list[int]:
        """Neurons per layer, inputs and output included: [features, *hidden, outputs]."""
        n_out = self.num_classes if self.resolved_problem == "multiclass" else 1
        return [len(self.features), *self.hidden, n_out]

    @property
    def output_activation(self) -> str:
        loss = self.resolved_loss
        if loss == "softmax_ce":
            return "softmax"
        if loss == "bce":
            return "sigmoid"
        return "linear" if self.resolved_problem == "regression" else "tanh"

    def with_changes(self, **changes: Any) -> MLPConfig:
        return replace(self, **changes)

    # Fields that change the data, the network's shape or its initial weights: a new run.
    RESET_FIELDS = frozenset(
        {"dataset", "n_points", "noise", "train_ratio", "seed", "num_classes", "points",
         "problem", "features", "hidden", "activation", "loss", "init"}
    )


LIVE_FIELDS = frozenset(f.name for f in fields(MLPConfig)) - MLPConfig.RESET_FIELDS


@dataclass
class Metrics:
    step: int
    epoch: int
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    diverged: bool


@dataclass
class History:
    """Train/test loss after each epoch (and at step 0)."""

    steps: list[int] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)


class Trainer:
    def __init__(self, config: MLPConfig, compiled: bool = True) -> None:
        self.config = config
        self.compiled = compiled  # run updates in engine.fused where it covers the configuration
        self._build()

    # ----- construction -------------------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        self.rng = np.random.default_rng(c.seed)
        if c.points is not None:
            pts = np.asarray(c.points, dtype=np.float64).reshape(-1, 3)
            order = self.rng.permutation(len(pts))
            X, y = pts[order, :2], pts[order, 2]
        else:
            X, y = datasets.generate(c.dataset, c.n_points, c.noise, c.seed, c.num_classes)
        self._split = datasets.split(X, y, c.train_ratio)
        self.X_test, self.y_test = self._split[2], self._split[3]
        self.F_test = features.transform(self.X_test, c.features)
        self.T_test = self._targets(self.y_test)
        self._training_set()
        self.model = MLP(c.sizes, c.activation, c.output_activation, c.init, self.rng)
        self._layout = fused.Layout(c.sizes)
        self._before = np.zeros(self._layout.size)  # θ before the last compiled update
        self._trace_due = False  # the last update ran compiled: `trace` works it out when read
        self.optimizer = optimizers.make(
            c.optimizer, self.model.parameters(), lr=c.lr, **dict(c.optimizer_params)
        )
        self.step_count = 0
        self.epoch = 0
        self._pos = 0
        self._shuffle()
        self.diverged = False
        self.trace: Trace | None = None
        self.trace_rows = np.zeros(0, dtype=int)  # the last batch's rows of the training set
        self.history = History()
        self._metrics: Metrics | None = None  # cached for the current step
        self._diagnosis: tuple[int, diagnosis.Diagnosis] | None = None
        self._grid_inputs: dict[int, Array] = {}
        self._record()

    def _training_set(self) -> None:
        """The split's training points plus the added ones, as features and targets."""
        added = np.asarray(self.config.added or (), dtype=np.float64).reshape(-1, 3)
        self.X_train = np.concatenate([self._split[0], added[:, :2]])
        self.y_train = np.concatenate([self._split[1], added[:, 2]])
        self.F_train = features.transform(self.X_train, self.config.features)
        self.T_train = self._targets(self.y_train)
        self._F_all = np.concatenate([self.F_train, self.F_test])

    def _targets(self, y: Array) -> Array:
        """Labels as the loss wants them: ±1 (tanh), {0,1} (sigmoid), classes, or values."""
        c = self.config
        if c.resolved_loss == "softmax_ce":
            return y.astype(np.int64)
        if c.resolved_loss == "bce":
            return (y > 0).astype(np.float64).reshape(-1, 1)
        return y.reshape(-1, 1)

    def _shuffle(self) -> None:
        self._perm = self.rng.permutation(len(self.F_train))
        self._F_epoch = self.F_train[self._perm]
        self._T_epoch = self.T_train[self._perm]
        self._T_rows = None  # the targets as float rows, for the compiled loop (made when needed)

    def reset(self) -> None:
        """Start over from the config's seed: same data, same initial weights."""
        self._build()

    def update(self, **changes: Any) -> bool:
        """Apply config changes; returns True when they required a reset (a new run)."""
        new = self.config.with_changes(**changes)
        needs_reset = any(getattr(new, k) != getattr(self.config, k) for k in MLPConfig.RESET_FIELDS)
        old, self.config = self.config, new
        if needs_reset:
            self._build()
            return True
        if new.added != old.added:
            # Clicked points train from now on: this epoch's pass starts over on the new set.
            self._training_set()
            self._pos = 0
            self._shuffle()
            self._metrics = self._diagnosis = None
        if new.optimizer != old.optimizer:
            # A new method continues from the current weights with fresh state.
            self.optimizer = optimizers.make(
                new.optimizer, self.model.parameters(), lr=new.lr, **dict(new.optimizer_params)
            )
        else:
            defaults = type(self.optimizer).defaults
            self.optimizer.set(**{**defaults, **dict(new.optimizer_params), "lr": new.lr})
        return False

    # ----- training -----------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.F_train) / self.config.batch_size)

    def step(self, n: int = 1) -> int:
        """Run up to n mini-batch updates; returns how many ran (fewer once diverged)."""
        c = self.config
        model, opt = self.model, self.optimizer
        bs, n_train = c.batch_size, len(self.F_train)
        ran = 0
        with np.errstate(all="ignore"):  # a diverging run becomes a state, not warnings
            if self.runs_compiled:
                return self._compiled_steps(n, c, bs, n_train)
            ran = self._steps(n, c, model, opt, bs, n_train)
        return ran

    @property
    def runs_compiled(self) -> bool:
        """Whether updates run in engine.fused's compiled loop (else the NumPy engine's)."""
        c, n_train = self.config, len(self.F_train)
        work = min(c.batch_size, n_train) * sum(a * b for a, b in itertools.pairwise(c.sizes))
        return (self.compiled and n_train > 0 and fused.supported(
            c.activation, c.output_activation, c.resolved_loss, c.regularization, self.optimizer.name,
            work))

    def _compiled_steps(self, n: int, c: MLPConfig, bs: int, n_train: int) -> int:
        """_steps through engine.fused: the same updates, epochs, records and divergence."""
        ran = 0
        while ran < n and not self.diverged:
            if self._T_rows is None:
                self._T_rows = np.ascontiguousarray(self._T_epoch, dtype=np.float64).reshape(n_train, -1)
            k, pos, diverged = fused.train(
                self._layout, self.optimizer.params, self.optimizer, self._before, self._F_epoch,
                self._T_rows, self._pos, n - ran, bs, c.activation, c.output_activation,
                c.resolved_loss, c.regularization, c.reg_rate)
            ran += k
            self.step_count += k
            self._trace, self._trace_due = None, True
            self.trace_rows = self._perm[pos - bs : pos]
            # What the last update saw, kept for `trace` (a later change or shuffle must not alter it).
            self._trace_batch = (self._F_epoch[pos - bs : pos], self._T_epoch[pos - bs : pos],
                                 c.resolved_loss, c.regularization, c.reg_rate)
            self.diverged = self.diverged or diverged
            self._pos = pos
            if pos >= n_train:
                self._pos = 0
                self.epoch += 1
                self._shuffle()
                self._record()
        return ran

    @property
    def trace(self) -> Trace | None:
        """The last update's forward and backward pass (None before the first update)."""
        if self._trace is None and self._trace_due:
            F, T, loss, regularization, rate = self._trace_batch
            before = copy.copy(self.model)  # the network as the last update found it
            params = [np.empty_like(p) for p in self.model.parameters()]
            fused.unpack(self._before, params)
            before.W, before.b = params[0::2], params[1::2]
            with np.errstate(all="ignore"):
                self._trace = before.loss_and_grads(F, T, loss, regularization, rate)
            self._trace_due = False
        return self._trace

    @trace.setter
    def trace(self, value: Trace | None) -> None:
        self._trace, self._trace_due = value, False

    def _steps(self, n: int, c: MLPConfig, model: MLP, opt: optimizers.Optimizer, bs: int,
               n_train: int) -> int:
        # The hot loop of every lab run: state is kept in locals and written back once.
        ran, pos, tr, start = 0, self._pos, self.trace, self.step_count
        loss, reg, rate = c.resolved_loss, c.regularization, c.reg_rate
        F_epoch, T_epoch = self._F_epoch, self._T_epoch
        isfinite = math.isfinite
        batch = pos
        while ran < n and not self.diverged:
            batch = pos
            tr = model.loss_and_grads(F_epoch[pos : pos + bs], T_epoch[pos : pos + bs], loss, reg, rate)
            opt.step([g for pair in zip(tr.dW, tr.db, strict=True) for g in pair])  # [dW1, db1, ...]
            ran += 1
            pos += bs
            if not isfinite(tr.loss):
                self.diverged = True
            if pos >= n_train:
                pos = 0
                self.trace_rows = self._perm[batch : batch + bs]
                self._pos, self.trace, self.step_count = pos, tr, start + ran
                self.epoch += 1
                self._shuffle()
                F_epoch, T_epoch = self._F_epoch, self._T_epoch
                self._record()
        if ran and pos:
            self.trace_rows = self._perm[batch : batch + bs]
        self._pos, self.trace, self.step_count = pos, tr, start + ran
        return ran

    @property
    def trace_targets(self) -> Array:
        """The last batch's targets as the loss took them (rows of T_train)."""
        return self.T_train[self.trace_rows]

    def steps_for_epochs(self, n: int) -> int:
        """Mini-batch updates from here to the end of the n-th epoch from now."""
        return n * self.batches_per_epoch - self._pos // self.config.batch_size

    def run_epochs(self, n: int = 1) -> int:
        """Train until n more epochs have completed (or divergence)."""
        return self.step(self.steps_for_epochs(n))

    # ----- reading ------------------------------------------------------------------------
    def _loss_acc(self, z: Array, T: Array) -> tuple[float, float | None]:
        """Mean loss and accuracy (None for regression) from output pre-activations z."""
        if len(z) == 0:
            return float("nan"), None
        c = self.config
        value, _, out = losses.LOSSES[c.resolved_loss].value_and_grad(z, T, self.model._out_act)
        if c.resolved_problem == "regression":
            return value, None
        if c.resolved_loss == "softmax_ce":
            acc = float((np.argmax(out, axis=1) == T).mean())
        elif c.resolved_loss == "bce":
            acc = float(((out[:, 0] > 0.5) == (T[:, 0] > 0.5)).mean())
        else:
            acc = float(((out[:, 0] >= 0) == (T[:, 0] > 0)).mean())
        return value, acc

    def metrics(self) -> Metrics:
        """Loss and accuracy on the whole train and test sets (cached until the next step)."""
        m = self._metrics
        if m is not None and m.step == self.step_count and m.diverged == self.diverged:
            return m
        n = len(self.F_train)
        with np.errstate(all="ignore"):
            z = self.model.forward(self._F_all)[0][-1]  # train and test in one pass
            tl, ta = self._loss_acc(z[:n], self.T_train)
            vl, va = self._loss_acc(z[n:], self.T_test)
        if not math.isfinite(tl):
            self.diverged = self.diverged or len(self.F_train) > 0
        self._metrics = Metrics(self.step_count, self.epoch, tl, vl, ta, va, self.diverged)
        return self._metrics

    def diagnosis(self) -> diagnosis.Diagnosis:
        """What holds the run back (engine.diagnosis), over the training set (cached per step)."""
        if self._diagnosis is not None and self._diagnosis[0] == self.step_count:
            return self._diagnosis[1]
        c, m = self.config, self.metrics()
        d = diagnosis.diagnose(self.model, self.F_train, self.T_train, c.resolved_loss, c.lr,
                               c.resolved_problem, self.history.train_loss, m.train_accuracy)
        self._diagnosis = (self.step_count, d)
        return d

    def _record(self) -> None:
        m = self.metrics()
        h = self.history
        h.steps.append(m.step)
        h.epochs.append(m.epoch)
        h.train_loss.append(m.train_loss)
        h.test_loss.append(m.test_loss)

    def grids(self, res: int) -> dict[str, Any]:
        """Everything the page draws over the input plane [−6, 6]², from one forward pass.

        Returns `output` (res, res): for two classes and regression the output on the
        −1 … 1 scale (sigmoid p mapped to 2p − 1); for K classes `output` is the predicted
        class, `confidence` its probability and `probabilities` (K, res, res) every class's.
        `inputs` (n_features, res, res) holds the features, `neurons` one (n_l, res, res) array
        per hidden layer. Row 0 is x2 = +6.
        """
        F = self._grid_features(res)
        with np.errstate(all="ignore"):
            _, as_ = self.model.forward(F, np.float32)  # a picture: see MLP.forward
        result: dict[str, Any] = {
            "inputs": F.T.reshape(-1, res, res),
            "neurons": [a.T.reshape(-1, res, res) for a in as_[:-1]],
            **self._output_maps(as_[-1], res),
        }
        return result

    def output_grid(self, res: int) -> dict[str, Any]:
        """Only `output` (and `confidence` for K classes) of grids(res): what a frame draws
        largest, without the thumbnails."""
        with np.errstate(all="ignore"):
            out = self.model.output(self._grid_features(res))
        maps = self._output_maps(out, res)
        maps.pop("probabilities", None)
        return maps

    def _output_maps(self, out: Array, res: int) -> dict[str, Array]:
        result: dict[str, Array] = {}
        loss = self.config.resolved_loss
        if loss == "softmax_ce":
            result["output"] = np.argmax(out, axis=1).reshape(res, res)
            result["confidence"] = np.max(out, axis=1).reshape(res, res)
            result["probabilities"] = out.T.reshape(-1, res, res)
        elif loss == "bce":
            result["output"] = (2.0 * out[:, 0] - 1.0).reshape(res, res)
        else:
            result["output"] = out[:, 0].reshape(res, res)
        return result

    def _grid_features(self, res: int) -> Array:
        """Feature matrix of the res × res plane grid, computed once per resolution."""
        F = self._grid_inputs.get(res)
        if F is None:
            g = np.linspace(-datasets.DOMAIN, datasets.DOMAIN, res)
            x1, x2 = np.meshgrid(g, g[::-1])
            P = np.column_stack([x1.ravel(), x2.ravel()])
            F = self._grid_inputs[res] = features.transform(P, self.config.features)
        return F

    def set_weights(self, pairs: list[tuple[Array, Array]]) -> None:
        """Load (W, b) for every layer, in place (the optimizer holds these arrays).

        Raises ValueError naming the layer when a shape does not match the network or a value
        is not finite; nothing changes then.
        """
        model = self.model
        check_parameters(model.sizes, pairs)
        for (W_new, b_new), W, b in zip(pairs, model.W, model.b, strict=True):
            W[...] = W_new
            b[...] = b_new
        self.trace = None
        self._metrics = None  # cached per step; new weights at the same step need fresh ones
        self._diagnosis = None

    def restore_progress(self, step: int, epoch: int, epochs: list[int], train_loss: list[float | None],
                         test_loss: list[float | None]) -> None:
        """Continue a saved run's count: its step, its epoch and its loss history (the losses
        after each listed epoch). The seeded shuffles of the epochs run so far are drawn again,
        so from an epoch's end the run goes on as the uninterrupted one would (given the same
        weights; optimizer state such as momentum starts afresh). ValueError when the history
        does not fit; nothing changes then."""
        if not (len(epochs) == len(train_loss) == len(test_loss)) or not epochs:
            raise ValueError("history: epochs, train_loss and test_loss must be non-empty lists of "
                             "one length")
        if step < 0 or epoch < 0 or any(b < a for a, b in itertools.pairwise(epochs)) or epochs[-1] > epoch:
            raise ValueError("history: epochs must rise to at most the epoch; step and epoch ≥ 0")
        c = self.config
        self.rng = np.random.default_rng(c.seed)  # drawn again as _build drew it:
        if c.points is not None:
            self.rng.permutation(len(c.points))  # the order of your own points,
        MLP(c.sizes, c.activation, c.output_activation, c.init, self.rng)  # the initial weights,
        for _ in range(epoch + 1):  # and one shuffle per epoch begun
            self._shuffle()
        nan = float("nan")
        self.step_count, self.epoch, self._pos = int(step), int(epoch), 0
        self.history = History(
            [int(step)] * len(epochs), [int(e) for e in epochs],
            [nan if v is None else float(v) for v in train_loss],
            [nan if v is None else float(v) for v in test_loss])
        self._metrics = self._diagnosis = None

    def weights(self) -> list[dict[str, Array]]:
        return [{"W": W, "b": b} for W, b in zip(self.model.W, self.model.b, strict=True)]

    def optimizer_state(self) -> list[dict[str, Array]]:
        return self.optimizer.state
