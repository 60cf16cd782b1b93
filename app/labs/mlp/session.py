"""The MLP lab's API shapes and its session runner (engine trainer → JSON frames)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from app import encoding
from app.settings import Settings
from engine import activations, datasets, features, initializers, optimizers, regularizers
from engine.mlp import check_parameters
from engine.trainer import MLPConfig, Trainer

DatasetName = Literal[tuple(datasets.DATASETS)]  # type: ignore[valid-type]
FeatureName = Literal[tuple(features.FEATURES)]  # type: ignore[valid-type]
ActivationName = Literal[tuple(activations.ACTIVATIONS)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(optimizers.OPTIMIZERS)]  # type: ignore[valid-type]
InitName = Literal[tuple(initializers.INITIALIZERS)]  # type: ignore[valid-type]
RegName = Literal[tuple(regularizers.REGULARIZERS)]  # type: ignore[valid-type]
Include = Literal["metrics", "weights", "trace", "grids", "history", "optimizer", "data", "diagnosis"]
Precision = Literal["display", "full"]
PRECISION_DOC = (
    "display (the default) rounds what a page shows: weights and the loss history to 6 decimals, "
    "data points and labels to 4 decimals (grids are uint8 either way); full sends every number as "
    "the engine's float64 holds it (shortest repr that reads back exactly), so a notebook can "
    "compare with its own computation to 1e-12"
)


class MLPConfigIn(BaseModel):
    """A playground run. Noise and the train share are percentages, as on the page."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    dataset: DatasetName = "circle"
    n_points: int = Field(500, ge=4, description="points generated (train + test)")
    noise: float = Field(0, ge=0, le=50, description="noise in percent, 0 … 50")
    train_percent: float = Field(50, ge=10, le=100, description="share of points used for training")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    num_classes: int = Field(3, ge=3, le=5, description="classes of the multi-class datasets")
    points: list[Annotated[tuple[float, float, float], Strict(False)]] | None = Field(
        None, fail_fast=True,
        description="your own data as [x1, x2, label] (labels ±1, a class 0…K−1, or a value); "
        "split into train and test by train_percent"
    )
    added: list[Annotated[tuple[float, float, float], Strict(False)]] | None = Field(
        None, fail_fast=True,
        description="points clicked into the plot, [x1, x2, label]: always in the training set "
        "(after the split); changing them keeps the run going (no reset)"
    )
    problem: Literal["classification", "regression", "multiclass"] | None = Field(
        None, description="defaults to the dataset's (classification for your own points)"
    )
    features: list[FeatureName] = Field(["x1", "x2"], min_length=1)
    hidden: list[int] = Field([4, 2], fail_fast=True, description="neurons per hidden layer")
    activation: ActivationName = "tanh"
    loss: Literal["squared", "bce", "softmax_ce"] | None = Field(
        None, description="squared (tanh/linear output), bce (sigmoid output) or softmax_ce"
    )
    init: InitName = "tf_uniform"
    optimizer: OptimizerName = "sgd"
    lr: float = Field(0.03, gt=0, le=10, description="learning rate γ")
    optimizer_params: dict[str, float | bool] = Field(
        {}, description="torch.optim hyperparameters other than lr, e.g. {\"momentum\": 0.9}"
    )
    batch_size: int = Field(10, ge=1)
    regularization: RegName = "none"
    reg_rate: float = Field(0, ge=0, le=10)

    @model_validator(mode="after")
    def _consistent(self) -> MLPConfigIn:
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must not repeat")
        if any(h < 1 for h in self.hidden):
            raise ValueError("every hidden layer needs at least 1 neuron")
        generated = datasets.get(self.dataset).problem
        own = self.points is not None
        if not own and self.problem not in (None, generated):
            raise ValueError(
                f"dataset {self.dataset!r} is a {generated} problem; leave problem out or give "
                "your own points"
            )
        problem = self.problem or ("classification" if own else generated)
        loss = self.loss
        if problem == "multiclass" and loss not in (None, "softmax_ce"):
            raise ValueError("multi-class data needs loss 'softmax_ce'")
        if problem != "multiclass" and loss == "softmax_ce":
            raise ValueError("loss 'softmax_ce' needs multi-class data (problem 'multiclass')")
        if problem == "regression" and loss == "bce":
            raise ValueError("loss 'bce' is for two classes; use 'squared' for regression")
        optimizers.check_hyperparameters(self.optimizer, self.optimizer_params)
        for name, pts in (("points", self.points), ("added points", self.added)):
            if not pts:
                continue
            labels = np.array([p[2] for p in pts])
            if problem == "classification" and not np.all(np.isin(labels, (-1.0, 1.0))):
                raise ValueError(f"{name} of two classes need labels -1 or 1")
            if problem == "multiclass" and not np.all(np.isin(labels, np.arange(self.num_classes))):
                raise ValueError(f"multi-class {name} need labels 0 … {self.num_classes - 1}")
            if not np.all(np.isfinite(np.array(pts))):
                raise ValueError(f"{name} must be finite numbers")
        return self

    def check_limits(self, settings: Settings) -> None:
        """422 naming the server setting a config goes past."""
        problems = []
        if len(self.hidden) > settings.max_layers:
            problems.append(f"at most {settings.max_layers} hidden layers (NP_MAX_LAYERS)")
        if any(h > settings.max_neurons for h in self.hidden):
            problems.append(f"at most {settings.max_neurons} neurons a layer (NP_MAX_NEURONS)")
        n = (len(self.points) if self.points is not None else self.n_points) + len(self.added or [])
        if n > settings.max_points:
            problems.append(f"at most {settings.max_points} points (NP_MAX_POINTS)")
        if self.points is not None and len(self.points) + len(self.added or []) < 2:
            problems.append("give at least 2 points of your own")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))

    def to_engine(self) -> MLPConfig:
        return MLPConfig(
            dataset=self.dataset,
            n_points=self.n_points,
            noise=self.noise / 100.0,
            train_ratio=self.train_percent / 100.0,
            seed=self.seed,
            num_classes=self.num_classes,
            points=tuple(tuple(p) for p in self.points) if self.points is not None else None,
            added=tuple(tuple(p) for p in self.added) if self.added else None,
            problem=self.problem or ("classification" if self.points is not None else None),
            features=tuple(self.features),
            hidden=tuple(self.hidden),
            activation=self.activation,
            loss=self.loss,
            init=self.init,
            optimizer=self.optimizer,
            lr=self.lr,
            optimizer_params=tuple(sorted(self.optimizer_params.items())),
            batch_size=self.batch_size,
            regularization=self.regularization,
            reg_rate=self.reg_rate,
        )


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    steps: int | None = Field(None, ge=1, description="mini-batch updates to run")
    epochs: int | None = Field(None, ge=1, description="passes over the training set to run")
    include: list[Include] = Field(["metrics"], description="what the response carries")
    res: int = Field(50, ge=2, description="output grid resolution, when grids are included")
    neuron_res: int = Field(20, ge=2, description="resolution of each neuron's grid (and each class's "
                            "probability map)")
    precision: Precision = Field("display", description=PRECISION_DOC)

    @model_validator(mode="after")
    def _one_amount(self) -> StepIn:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        return self


def config_out(cfg: MLPConfigIn, trainer: Trainer) -> dict[str, Any]:
    c = trainer.config
    return {
        **cfg.model_dump(),
        "resolved": {
            "problem": c.resolved_problem,
            "loss": c.resolved_loss,
            "output_activation": c.output_activation,
            "sizes": trainer.model.sizes,
            "parameters": trainer.model.num_parameters,
            "batches_per_epoch": trainer.batches_per_epoch,
        },
    }


def data_out(trainer: Trainer, full: bool = False) -> dict[str, Any]:
    """Train and test points as [[x1, x2, label], ...] (labels as in the dataset), rounded to 4
    decimals unless `full`. The training set lists the split's points, then the added ones."""
    def rows(X: np.ndarray, y: np.ndarray) -> list[list[float]]:
        pts = np.column_stack([X, y]).reshape(-1, 3)
        return (pts if full else np.round(pts, 4)).tolist()

    return {"train": rows(trainer.X_train, trainer.y_train), "test": rows(trainer.X_test, trainer.y_test)}


def metrics_out(trainer: Trainer) -> dict[str, Any]:
    m = trainer.metrics()
    return encoding.finite({
        "step": m.step,
        "epoch": m.epoch,
        "train_loss": m.train_loss,
        "test_loss": m.test_loss,
        "train_accuracy": m.train_accuracy,
        "test_accuracy": m.test_accuracy,
        "diverged": m.diverged,
    })


def output_grid_out(trainer: Trainer, res: int) -> dict[str, Any]:
    """Only the output map at `res` (a light frame's grids)."""
    return _output_out(trainer.output_grid(res))


def _output_out(g: dict[str, Any]) -> dict[str, Any]:
    """The output map of computed grids: class labels and confidence, or the value in [-1, 1]."""
    out: dict[str, Any] = {"extent": [-datasets.DOMAIN, datasets.DOMAIN]}
    if "confidence" in g:
        out["output"] = encoding.labels(g["output"])
        out["confidence"] = encoding.grid(g["confidence"], 0.0, 1.0)
    else:
        out["output"] = encoding.grid(g["output"], -1.0, 1.0)
    return out


def grids_out(trainer: Trainer, res: int, neuron_res: int) -> dict[str, Any]:
    """Output grid at `res`, features and neurons at `neuron_res`, quantized to uint8."""
    g = trainer.grids(res) if neuron_res == res else trainer.output_grid(res)
    out = _output_out(g)
    small = g if neuron_res == res else trainer.grids(neuron_res)
    if "probabilities" in small:  # one map per class, for the output neurons
        out["probabilities"] = [encoding.grid(p, 0.0, 1.0) for p in small["probabilities"]]
    out["inputs"] = encoding.symmetric_stack(small["inputs"])
    out["neurons"] = [encoding.symmetric_stack(layer) for layer in small["neurons"]]
    return out


def trace_out(trainer: Trainer) -> dict[str, Any] | None:
    """The last update's batch (features `inputs`, `targets` as the loss took them, `rows` of
    data.train) and per layer z, a, dL/dz, dL/dW, dL/db and the gradient norms."""
    tr = trainer.trace
    if tr is None:
        return None
    layers = []
    for z, a, dz, dW, db, (nW, nb) in zip(tr.z, tr.a, tr.dz, tr.dW, tr.db, tr.grad_norms(), strict=True):
        layers.append({
            "z": z, "a": a, "dL_dz": dz, "dL_dW": dW, "dL_db": db, "grad_norm_W": nW, "grad_norm_b": nb,
        })
    return encoding.finite({"inputs": tr.inputs, "targets": trainer.trace_targets,
                            "rows": trainer.trace_rows.tolist(), "loss": tr.loss, "layers": layers})


def diagnosis_out(trainer: Trainer) -> dict[str, Any]:
    d = trainer.diagnosis()
    return encoding.finite({
        "state": d.state, "messages": d.messages, "units": d.units, "dead": d.dead,
        "saturated": d.saturated, "saturated_outputs": d.saturated_outputs,
        "wrong_saturated": d.wrong_saturated, "stalled": d.stalled, "grad_norms": d.grad_norms,
    })


def optimizer_out(trainer: Trainer) -> dict[str, Any]:
    opt = trainer.optimizer
    used = [k for k in opt.state_names if any(np.any(s[k]) for s in opt.state)]
    return encoding.finite({
        "name": opt.name,
        "t": opt.t,
        "hyperparameters": opt.hyperparameters(),
        "state": [{k: s[k] for k in used} for s in opt.state],
    })


def history_out(trainer: Trainer, most: int = 200, full: bool = False) -> dict[str, Any]:
    h = trainer.history
    idx = encoding.decimate_indices(len(h.epochs), most)
    digits = None if full else 6
    return {
        "epochs": np.asarray(h.epochs)[idx].tolist(),
        "train_loss": encoding.finite(np.asarray(h.train_loss)[idx], digits),
        "test_loss": encoding.finite(np.asarray(h.test_loss)[idx], digits),
    }


def snapshot(trainer: Trainer, include: Sequence[str], res: int = 50, neuron_res: int = 20,
             precision: str = "display") -> dict[str, Any]:
    """The parts of a run named in `include`, rounded as `precision` says (PRECISION_DOC)."""
    full = precision == "full"
    out: dict[str, Any] = {"step": trainer.step_count, "epoch": trainer.epoch, "diverged": trainer.diverged}
    if "metrics" in include:
        out["metrics"] = metrics_out(trainer)
        out["diverged"] = trainer.diverged
    if "weights" in include:
        out["weights"] = encoding.finite(trainer.weights(), None if full else 6)
    if "grids" in include:
        out["grids"] = grids_out(trainer, res, neuron_res)
    if "history" in include:
        out["history"] = history_out(trainer, full=full)
    if "trace" in include:
        out["trace"] = trace_out(trainer)
    if "optimizer" in include:
        out["optimizer"] = optimizer_out(trainer)
    if "data" in include:
        out["data"] = data_out(trainer, full)
    if "diagnosis" in include:
        out["diagnosis"] = diagnosis_out(trainer)
    return out  # every part above is JSON-safe already


class HistoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    epochs: list[int] = Field(description="the epoch of each recorded loss")
    train_loss: list[float | None]
    test_loss: list[float | None]


class ProgressIn(BaseModel):
    """A saved run's count, as `step`, `epoch` and `history` of a response carry it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    step: int = Field(ge=0)
    epoch: int = Field(ge=0)
    history: HistoryIn

    @model_validator(mode="after")
    def _fits(self) -> ProgressIn:
        h = self.history
        if not h.epochs or not len(h.epochs) == len(h.train_loss) == len(h.test_loss):
            raise ValueError("history: epochs, train_loss and test_loss must be non-empty lists of "
                             "one length")
        if any(b < a for a, b in zip(h.epochs, h.epochs[1:], strict=False)) or h.epochs[-1] > self.epoch:
            raise ValueError("history: epochs must rise to at most the epoch")
        return self


class FrameOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    res: int = Field(100, ge=2)
    neuron_res: int = Field(20, ge=2)


class MLPRunner:
    """A playground session: the trainer, the config it came from, and frame options."""

    FRAME = ("metrics", "weights", "grids", "history", "diagnosis")
    DIAGNOSE_EVERY = 4  # detail frames: about twice a second at the frame-rate cap

    def __init__(self, cfg: MLPConfigIn, settings: Settings) -> None:
        self.cfg = cfg
        self.settings = settings
        self.trainer = Trainer(cfg.to_engine(), settings.compiled)
        self.view = FrameOptions(res=min(100, settings.max_grid), neuron_res=min(20, settings.max_grid))
        self._diagnosis: dict[str, Any] | None = None  # the last detail frame's
        self._details = 0

    def advance(self, n: int) -> int:
        return self.trainer.step(n)

    @property
    def done(self) -> bool:
        return self.trainer.diverged

    def reset(self) -> None:
        self.trainer.reset()
        self._diagnosis = None

    def frame(self) -> dict[str, Any]:
        out = snapshot(self.trainer, self.FRAME, self.view.res, self.view.neuron_res)
        self._diagnosis, self._details = out["diagnosis"], 1  # the next detail frames start from it
        return out

    def detail_frame(self) -> dict[str, Any]:
        """A frame while playing, one in four (app.streaming.DETAIL_EVERY): everything, but the
        diagnosis (a forward and backward pass over every training point) worked out again only
        every DIAGNOSE_EVERY such frames; the others carry the last one. A pause brings a fresh one."""
        out = snapshot(self.trainer, ("metrics", "weights", "grids", "history"), self.view.res,
                       self.view.neuron_res)
        if self._diagnosis is None or self._details % self.DIAGNOSE_EVERY == 0:
            self._diagnosis = diagnosis_out(self.trainer)
        self._details += 1
        out["diagnosis"] = self._diagnosis
        return out

    def light_frame(self) -> dict[str, Any]:
        """A frame while playing, three of every four: the output map, metrics and weights,
        without what changes slowly or is drawn small (the features' and neurons' thumbnails,
        each class's map, the loss history, the diagnosis with its gradient norms: a forward and
        backward pass over every training point), which the page keeps from the last full frame;
        its loss chart goes on from the metrics. A third of the bytes, half the work."""
        out = snapshot(self.trainer, ("metrics", "weights"))
        out["grids"] = output_grid_out(self.trainer, self.view.res)
        return out

    def describe(self) -> dict[str, Any]:
        return {**config_out(self.cfg, self.trainer), "data": data_out(self.trainer)}

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Config fields and frame options (res, neuron_res); a reset only when needed.

        `weights` ([{"W", "b"}, ...] as frames carry them) replaces the network's parameters
        after any config change, e.g. to import a saved run; `progress` ({"step", "epoch",
        "history": {"epochs", "train_loss", "test_loss"}}) then continues its count.
        """
        weights, progress = params.get("weights"), params.get("progress")
        params = {k: v for k, v in params.items() if k not in ("weights", "progress")}
        saved = ProgressIn.model_validate(progress) if progress is not None else None
        view_keys = {k: params[k] for k in ("res", "neuron_res") if k in params}
        cfg_keys = {k: v for k, v in params.items() if k not in view_keys}
        view = FrameOptions(**{**self.view.model_dump(), **view_keys})
        if view_keys and max(view.res, view.neuron_res) > self.settings.max_grid:
            raise ValueError(f"grid resolution at most {self.settings.max_grid} (NP_MAX_GRID)")
        cfg = MLPConfigIn(**{**self.cfg.model_dump(), **cfg_keys})
        try:
            cfg.check_limits(self.settings)
        except HTTPException as exc:
            raise ValueError(exc.detail) from None
        check_grid_bytes(cfg, view.res, view.neuron_res, self.settings)
        engine_cfg = cfg.to_engine()
        check_render_cost(engine_cfg, view.res, view.neuron_res, self.settings)
        pairs = None
        if weights is not None:  # checked against the new network before anything changes
            pairs = parse_weights(weights)
            check_parameters(engine_cfg.sizes, pairs)
        self.view = view
        self.cfg = cfg
        reset = self.trainer.update(**_changed(self.trainer.config, engine_cfg))
        self._diagnosis = None  # a change may change what holds the run back
        if pairs is not None:
            self.trainer.set_weights(pairs)
        if saved is not None:
            h = saved.history
            self.trainer.restore_progress(saved.step, saved.epoch, h.epochs, h.train_loss, h.test_loss)
        return {"reset": reset}

    def step_cost(self) -> int:
        """Work of one mini-batch update: examples × parameters (for the work budgets); a batch
        never holds more examples than the training set."""
        batch = min(self.trainer.config.batch_size, max(1, len(self.trainer.F_train)))
        return batch * self.trainer.model.num_parameters


    def frame_cost(self) -> int:
        """Work of rendering a frame, in step_cost's units (examples × parameters of a training
        step, about three forward passes): the metrics' pass over every point, the output grid
        and, at their own resolution, the neurons' grids."""
        points = len(self.trainer.y_train) + len(self.trainer.y_test)
        return render_cost(self.trainer.model.num_parameters, points, self.view.res, self.view.neuron_res)


def render_cost(parameters: int, points: int, res: int, neuron_res: int) -> int:
    cells = res * res + (neuron_res * neuron_res if neuron_res != res else 0)
    return (points + cells) * parameters // 3


def check_render_cost(engine_cfg: MLPConfig, res: int, neuron_res: int, settings: Settings) -> None:
    """ValueError naming NP_MAX_WORK_PER_FRAME when rendering one frame alone would pass it."""
    sizes = engine_cfg.sizes
    parameters = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    points = len(engine_cfg.points) if engine_cfg.points else engine_cfg.n_points
    cost = render_cost(parameters, points, res, neuron_res)
    if cost > settings.max_work_per_frame:
        raise ValueError(
            f"rendering grids of res {res} and neuron_res {neuron_res} for {parameters} weights is "
            f"{cost:.3g} units of work, more than {settings.max_work_per_frame:.3g} a frame "
            "(NP_MAX_WORK_PER_FRAME): lower res or neuron_res")


def check_grid_bytes(cfg: MLPConfigIn, res: int, neuron_res: int, settings: Settings) -> None:
    """ValueError naming NP_MAX_FRAME_BYTES when a frame's grids would be larger: the output
    grid (twice for classes) at `res`, every feature and hidden neuron at `neuron_res`."""
    outputs = 2 if (cfg.problem or datasets.get(cfg.dataset).problem) == "multiclass" else 1
    cells = outputs * res * res + (len(cfg.features) + sum(cfg.hidden)) * neuron_res * neuron_res
    size = encoding.grid_bytes(cells)
    if size > settings.max_frame_bytes:
        raise ValueError(
            f"grids of res {res} and neuron_res {neuron_res} for {len(cfg.features) + sum(cfg.hidden)} "
            f"features and neurons are {size / 1e6:.1f} MB, more than "
            f"{settings.max_frame_bytes / 1e6:.1f} MB a frame (NP_MAX_FRAME_BYTES): lower res or neuron_res")


def parse_weights(weights: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """[{"W": [[...]], "b": [...]}, ...] (as frames carry them) as (W, b) arrays."""
    if not isinstance(weights, list):
        raise ValueError("weights: give a list of layers, each {'W': [[...]], 'b': [...]}")
    pairs = []
    for i, layer in enumerate(weights):
        if not isinstance(layer, dict) or set(layer) != {"W", "b"}:
            raise ValueError(f"weights.{i}: give {{'W': [[...]], 'b': [...]}}")
        try:
            W, b = (np.asarray(layer[k], dtype=np.float64) for k in ("W", "b"))
        except (TypeError, ValueError):
            raise ValueError(f"weights.{i}: W and b must be numbers") from None
        pairs.append((W, b))
    return pairs


def _changed(old: MLPConfig, new: MLPConfig) -> dict[str, Any]:
    return {k: getattr(new, k) for k in new.__dataclass_fields__ if getattr(new, k) != getattr(old, k)}
