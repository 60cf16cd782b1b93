"""The depth lab's API shapes and its session runner (the lockstep trainer → JSON frames)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app import encoding
from app.settings import Settings
from engine import activations, initializers, optimizers
from engine.deepnet import NetSpec
from engine.depth_data import DATASETS
from engine.depth_trainer import DepthConfig, DepthTrainer

ActivationName = Literal[tuple(activations.ACTIVATIONS)]  # type: ignore[valid-type]
InitName = Literal[tuple(initializers.INITIALIZERS)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(optimizers.OPTIMIZERS)]  # type: ignore[valid-type]
DatasetName = Literal[DATASETS]  # type: ignore[valid-type]
Include = Literal["metrics", "layers", "histograms", "history", "weights"]
FRAME: tuple[Include, ...] = ("metrics", "layers", "histograms", "history")
HISTORY_POINTS = 150  # a frame's loss curves, evenly decimated
# A layer's fixed cost per step (its Python and NumPy calls: forward, backward, update) in the
# work budgets' unit (examples × parameters of arithmetic): bench.bench_depth measures it against
# a hand-written step of the same networks: about 2,000 units a layer (1,300 to 4,100 while other
# processes load the machine).
LAYER_WORK = 2000


class NetworkIn(BaseModel):
    """One network of the comparison: depth and width are the session's."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    activation: ActivationName = "sigmoid"
    init: InitName = Field("xavier", description="weight initializer")
    residual: bool = Field(False, description="skip connections around every hidden layer")
    batchnorm: bool = Field(False, description="BatchNorm before every activation")

    def to_engine(self) -> NetSpec:
        return NetSpec(self.activation, self.init, self.residual, self.batchnorm)


def _plain_vs_residual() -> list[NetworkIn]:
    return [NetworkIn(), NetworkIn(residual=True)]


class DepthConfigIn(BaseModel):
    """Networks of the same depth and width, trained side by side on the same batches."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    dataset: DatasetName = Field("digits", description="digits (8×8 images, 10 classes) or a 2-D set")
    n_points: int = Field(500, ge=20, description="points generated for a 2-D set (train + test)")
    noise: float = Field(0, ge=0, le=50, description="noise of a 2-D set in percent, 0 … 50")
    train_percent: float = Field(80, ge=10, le=90, description="share of the data used for training")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    depth: int = Field(30, ge=2, description="hidden layers, 2 … NP_MAX_DEPTH (50)")
    width: int = Field(16, ge=2, description="units per hidden layer, 2 … NP_MAX_WIDTH (64)")
    networks: list[NetworkIn] = Field(default_factory=_plain_vs_residual, min_length=1, max_length=3,
                                      description="1 to 3 networks to compare (default: plain and residual)")
    optimizer: OptimizerName = "sgd"
    lr: float = Field(0.1, gt=0, le=10, description="learning rate γ")
    optimizer_params: dict[str, float | bool] = Field(
        {}, max_length=8, description="torch.optim hyperparameters other than lr, e.g. {\"momentum\": 0.9}")
    batch_size: int = Field(32, ge=1, le=1024)

    @model_validator(mode="after")
    def _hyperparameters(self) -> DepthConfigIn:
        optimizers.check_hyperparameters(self.optimizer, self.optimizer_params)
        return self

    def check_limits(self, settings: Settings) -> None:
        """422 naming the server setting a config goes past."""
        problems = []
        if self.depth > settings.max_depth:
            problems.append(f"at most {settings.max_depth} hidden layers (NP_MAX_DEPTH)")
        if self.width > settings.max_width:
            problems.append(f"at most {settings.max_width} units a layer (NP_MAX_WIDTH)")
        if self.dataset != "digits" and self.n_points > settings.max_points:
            problems.append(f"at most {settings.max_points} points (NP_MAX_POINTS)")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))

    def to_engine(self) -> DepthConfig:
        return DepthConfig(
            dataset=self.dataset, n_points=self.n_points, noise=self.noise / 100.0,
            train_ratio=self.train_percent / 100.0, seed=self.seed, depth=self.depth, width=self.width,
            networks=tuple(n.to_engine() for n in self.networks), optimizer=self.optimizer, lr=self.lr,
            optimizer_params=tuple(sorted(self.optimizer_params.items())), batch_size=self.batch_size,
        )


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    steps: int | None = Field(None, ge=1, description="mini-batch steps to run (every network, same batch)")
    epochs: int | None = Field(None, ge=1, description="passes over the training set to run")
    include: list[Include] = Field(["metrics", "layers"], max_length=16, fail_fast=True,
                                   description="what the answer carries")

    @model_validator(mode="after")
    def _one_amount(self) -> StepIn:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        return self


# ---- engine state → JSON ---------------------------------------------------------------------

def sig(values: Any, digits: int = 4) -> Any:
    """Numbers rounded to `digits` significant digits (as lists, nested like the input); NaN
    and ±inf as null (JSON has neither). Vectorized: v·10ᵏ rounded, divided by the exact 10ᵏ."""
    arr = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        ok = np.isfinite(arr) & (arr != 0)
        k = np.where(ok, digits - 1 - np.floor(np.log10(np.abs(np.where(ok, arr, 1.0)))), 0.0)
        exact = np.abs(k) <= 22  # powers of ten a double holds exactly
        up = 10.0 ** np.abs(np.where(exact, k, 0.0))
        rounded = np.where(k >= 0, np.round(arr * up) / up, np.round(arr / up) * up)
    out = np.where(ok, rounded, np.where(np.isfinite(arr), 0.0, np.nan))
    for i in np.flatnonzero(ok & ~exact):  # beyond 10^±22 (a vanished gradient): one by one
        out.flat[i] = float(f"{arr.flat[i]:.{digits}g}")
    if np.isfinite(out).all():
        return out.tolist()
    return encoding.finite(out)


def metrics_out(m: Any) -> dict[str, Any]:
    return encoding.finite({
        "train_loss": m.train_loss, "train_accuracy": m.train_accuracy, "test_loss": m.test_loss,
        "test_accuracy": m.test_accuracy, "test_step": m.test_step, "diverged": m.diverged,
        "diverged_at": m.diverged_at,
        "verdict": m.verdict,
    }, 6)


def layers_out(trainer: DepthTrainer, k: int) -> dict[str, Any]:
    """Per-layer numbers of network k's last step (dense layers input side first, then output)."""
    r = trainer.readings(k)
    return {
        "dense": r.dense, "grad_norms": sig(r.grad_norms), "update_ratios": sig(r.update_ratios),
        "activations": r.activations, "mean": sig(r.mean), "var": sig(r.var),
        "quantiles": sig(r.quantiles, 3), "dead": None if r.dead is None else sig(r.dead, 3),
    }


def histograms_out(trainer: DepthTrainer, k: int) -> dict[str, Any]:
    """Each activation layer's histogram as one row of a uint8 grid (layers × bins), a row
    scaled so its largest bin is 255: the shape of the distribution, layer by layer."""
    r = trainer.readings(k)
    counts = r.histogram.astype(np.float64)
    top = counts.max(axis=1, keepdims=True)
    share = np.divide(counts, top, out=np.zeros_like(counts), where=top > 0)
    return {"range": list(r.hist_range), "bins": int(counts.shape[1]),
            "values_per_layer": int(counts[0].sum()) if len(counts) else 0,
            "grid": encoding.grid(share, 0.0, 1.0)}


def history_out(trainer: DepthTrainer, most: int = HISTORY_POINTS) -> dict[str, Any]:
    h = trainer.history
    idx = encoding.decimate_indices(len(h.steps), most)
    return {
        "steps": np.asarray(h.steps)[idx].tolist(),
        "train_loss": [sig(np.asarray(v)[idx]) for v in h.train_loss],
        "train_accuracy": [sig(np.asarray(v)[idx], 3) for v in h.train_accuracy],
    }


def spec_out(spec: NetSpec) -> dict[str, Any]:
    return {"activation": spec.activation, "init": spec.init, "residual": spec.residual,
            "batchnorm": spec.batchnorm}


def snapshot(trainer: DepthTrainer, include: Sequence[str], test_max_age: int = 0) -> dict[str, Any]:
    """The state as JSON; test metrics at most `test_max_age` steps old (exact by default)."""
    out: dict[str, Any] = {"step": trainer.step_count, "epoch": trainer.epoch, "done": trainer.done}
    metrics = trainer.metrics(test_max_age) if "metrics" in include else None
    nets = []
    for k, run in enumerate(trainer.runs):
        net: dict[str, Any] = {"label": run.spec.describe(), "diverged": run.diverged}
        if metrics is not None:
            net["metrics"] = metrics_out(metrics[k])
        if "layers" in include:
            net["layers"] = layers_out(trainer, k)
        if "histograms" in include:
            net["histograms"] = histograms_out(trainer, k)
        if "weights" in include:
            net["weights"] = encoding.finite([p for p in trainer.parameters(k)])
        nets.append(net)
    out["networks"] = nets
    if "history" in include:
        out["history"] = history_out(trainer)
    return out


def config_out(cfg: DepthConfigIn, trainer: DepthTrainer) -> dict[str, Any]:
    d = trainer.data
    return {
        **cfg.model_dump(),
        "resolved": {
            "inputs": d.n_in, "classes": list(d.classes), "train_size": len(d.X_train),
            "test_size": len(d.X_test), "chance_loss": round(d.chance_loss, 6),
            "batches_per_epoch": trainer.batches_per_epoch, "record_every": trainer.record_every,
            "labels": [run.spec.describe() for run in trainer.runs],
            "parameters": [run.model.num_parameters for run in trainer.runs],
            "dense_layers": cfg.depth + 1,
        },
    }


class DepthRunner:
    """A depth-lab session: the lockstep trainer and the config it came from."""

    def __init__(self, cfg: DepthConfigIn, settings: Settings) -> None:
        self.cfg = cfg
        self.settings = settings
        self.trainer = DepthTrainer(cfg.to_engine())

    def advance(self, n: int) -> int:
        return self.trainer.step(n)

    @property
    def done(self) -> bool:
        return self.trainer.done

    def reset(self) -> None:
        self.trainer.reset()

    def frame(self) -> dict[str, Any]:
        # the test set is evaluated at most once an epoch: a pass over it costs several training
        # steps, and frames come every few steps (the answer's test_step says when it was)
        return snapshot(self.trainer, FRAME, test_max_age=self.trainer.batches_per_epoch)

    def describe(self) -> dict[str, Any]:
        return config_out(self.cfg, self.trainer)

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Config fields; a reset only when the data, the shape or the networks change.

        `weights` (per network, its parameter arrays as frames with "weights" carry them)
        replaces the parameters after any config change: an imported run continues."""
        weights = params.get("weights")
        fields = {k: v for k, v in params.items() if k != "weights"}
        cfg = DepthConfigIn(**{**self.cfg.model_dump(), **fields})
        try:
            cfg.check_limits(self.settings)
        except HTTPException as exc:
            raise ValueError(exc.detail) from None
        if weights is not None and (not isinstance(weights, list) or len(weights) != len(cfg.networks)):
            raise ValueError(f"weights: give one list of parameter arrays per network ({len(cfg.networks)})")
        engine_cfg = cfg.to_engine()
        old = self.trainer.config
        changes = {k: getattr(engine_cfg, k) for k in engine_cfg.__dataclass_fields__
                   if getattr(engine_cfg, k) != getattr(old, k)}
        reset = self.trainer.update(**changes)
        self.cfg = cfg
        if weights is not None:
            try:
                arrays = [[np.asarray(p, dtype=np.float64) for p in net] for net in weights]
                for k, values in enumerate(arrays):
                    self.trainer.set_parameters(k, values)
            except (TypeError, ValueError) as exc:
                self.trainer.reset()  # never half an import
                raise ValueError(f"weights: {exc}") from None
        return {"reset": reset}

    def step_cost(self) -> int:
        """Work of one lockstep step: Σ over the live networks of batch × (parameters + the
        layers' fixed cost), in the work budgets' unit."""
        c = self.trainer.config
        return sum(c.batch_size * run.num_parameters + LAYER_WORK * len(run.leaves)
                   for run in self.trainer.runs if not run.diverged) or 1
