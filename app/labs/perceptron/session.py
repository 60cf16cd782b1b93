"""The perceptron lab's API shapes and its session runner (engine.perceptron → JSON frames)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from app import encoding
from app.settings import Settings
from app.state_import import state_errors
from engine import features, perceptron

DataName = Literal[tuple(perceptron.DATA)]  # type: ignore[valid-type]
FeatureName = Literal[tuple(features.FEATURES)]  # type: ignore[valid-type]
RuleName = Literal[tuple(perceptron.RULES) + tuple(perceptron.RULE_ALIASES)]  # type: ignore[valid-type]
InitName = Literal[tuple(perceptron.INITS)]  # type: ignore[valid-type]

GRID_RES = 60


class PerceptronIn(BaseModel):
    """A perceptron run. Noise is a percentage, as on the page."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    dataset: DataName = Field("gate_and", description="a logic gate, 'separable' blobs or a 2-class dataset")
    n_points: int = Field(60, ge=2, description="points generated (the gates always have 4)")
    noise: float = Field(0, ge=0, le=50, description="noise in percent, 0 … 50")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="data, random initial weights and shuffling")
    points: list[Annotated[tuple[float, float, float], Strict(False)]] | None = Field(
        None, fail_fast=True,
        description="your own points as [x1, x2, label] with labels -1 or 1 (replace the dataset)"
    )
    features: list[FeatureName] = Field(["x1", "x2"], min_length=1, description="inputs the perceptron sees")
    rule: RuleName = Field("perceptron", description="perceptron (Rosenblatt) or adaline (the delta "
                           "rule, Widrow–Hoff; `delta` is the same rule)")
    lr: float | None = Field(None, gt=0, le=10, description="learning rate η (default: the rule's, "
                             "1 for the perceptron, 0.1 for the delta rule)")
    max_epochs: int = Field(100, ge=1, description="stop after this many epochs")
    init: InitName = Field("zeros", description="initial weights: zeros or random in [-0.5, 0.5]")
    shuffle: bool = Field(False, description="a new random example order every epoch")

    @model_validator(mode="after")
    def _consistent(self) -> PerceptronIn:
        self.rule = perceptron.RULE_ALIASES.get(self.rule, self.rule)
        if self.lr is None:
            self.lr = perceptron.DEFAULT_LR[self.rule]
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must not repeat")
        if self.points is not None:
            arr = np.array(self.points, dtype=np.float64).reshape(-1, 3)
            if not np.all(np.isfinite(arr)):
                raise ValueError("points must be finite numbers")
            if not np.all(np.isin(arr[:, 2], (-1.0, 1.0))):
                raise ValueError("point labels must be -1 or 1")
        return self

    def check_limits(self, settings: Settings, stateless: bool = False) -> None:
        """422 naming the server setting the request goes past."""
        problems = []
        if self.max_epochs > settings.max_perceptron_epochs:
            problems.append(f"max_epochs at most {settings.max_perceptron_epochs} (NP_MAX_PERCEPTRON_EPOCHS)")
        n = self.size
        if n > settings.max_points:
            problems.append(f"at most {settings.max_points} points (NP_MAX_POINTS)")
        if self.points is not None and len(self.points) < 1:
            problems.append("give at least 1 point of your own")
        if stateless and n * self.max_epochs > settings.max_steps_per_call:
            problems.append(
                f"points × max_epochs = {n * self.max_epochs} is more than {settings.max_steps_per_call} "
                "examples in one call (NP_MAX_STEPS_PER_CALL); use fewer epochs or a session"
            )
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))

    @property
    def size(self) -> int:
        if self.points is not None:
            return len(self.points)
        return 4 if self.dataset in perceptron.GATES else self.n_points

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.points is not None:
            arr = np.array(self.points, dtype=np.float64).reshape(-1, 3)
            return arr[:, :2], arr[:, 2]
        return perceptron.make_data(self.dataset, self.n_points, self.noise / 100.0, self.seed)

    def extent(self, X: np.ndarray) -> tuple[float, float]:
        if self.points is not None:
            lo, hi = perceptron.extent("points", X)
            if len(X) and np.all((X >= -0.5) & (X <= 1.5)):
                return -0.5, 1.5
            return lo, hi
        return perceptron.extent(self.dataset, X)


class RunIn(PerceptronIn):
    record: Literal["updates", "epochs"] = Field(
        "epochs", description="return every example's update, or the weights after every epoch"
    )


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    examples: int | None = Field(None, ge=1, description="examples to present")
    epochs: int | None = Field(None, ge=1, description="epochs to run to their end")

    @model_validator(mode="after")
    def _one_amount(self) -> StepIn:
        if self.examples is not None and self.epochs is not None:
            raise ValueError("give examples or epochs, not both")
        return self


class RunStateIn(BaseModel):
    """A saved run to continue (a frame's fields, as the page exports them)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    w: list[float] = Field(fail_fast=True, description="one weight per feature")
    b: float
    epoch: int = Field(1, ge=1, description="the current epoch (1-based)")
    position: int = Field(0, ge=0, description="examples already presented in the current epoch")
    mistakes_per_epoch: list[int] = Field([], fail_fast=True, description="mistakes of every finished epoch")
    sq_error_per_epoch: list[float] | None = Field(None, fail_fast=True,
                                                   description="mean ½(y − s)² of every finished epoch")
    total_mistakes: int | None = Field(None, ge=0, description="mistakes so far (default: finished epochs')")
    epoch_sq_error: float = Field(0.0, description="Σ ½(y − s)² so far in the current epoch")
    status: Literal["running", "converged", "cycle", "epoch_limit"] = "running"
    cycle_start: int | None = Field(None, ge=0, description="a cycle's epoch whose start weights recur")


def build(cfg: PerceptronIn) -> tuple[perceptron.Perceptron, np.ndarray, np.ndarray]:
    X, y = cfg.data()
    run = perceptron.Perceptron(
        perceptron.featurize(X, cfg.features), y, cfg.rule, cfg.lr, cfg.max_epochs, cfg.init,
        cfg.shuffle, cfg.seed,
    )
    return run, X, y


def message(run: perceptron.Perceptron) -> str | None:
    """What the lab says once a run stopped."""
    done = len(run.mistakes_per_epoch)
    if run.status == "converged":
        return (f"converged: epoch {done} made no mistake — the points are linearly separable "
                f"({run.total_mistakes} updates in all)")
    if run.status == "cycle":
        return (f"not linearly separable: no line separates these points — the weights at the start "
                f"of epoch {done + 1} are those at the start of epoch {(run.cycle_start or 0) + 1}, "
                "so the perceptron would cycle forever")
    if run.status == "epoch_limit":
        if run.rule == "adaline":
            return (f"epoch limit ({done}) reached with mistakes left: the delta rule minimises the "
                    "squared error and need not find a separating line")
        return ("not linearly separable: no line separates these points — "
                f"no epoch without a mistake in {done} epochs (the epoch limit)")
    if run.status == "diverged" and run.rule == "adaline":
        bound = perceptron.stable_rate(run.Phi)
        return (f"diverged: the squared error grew epoch after epoch — η = {run.lr:g} overshoots. "
                f"On these points the delta rule's steps stay stable below 2/max‖(φ, 1)‖² = "
                f"{bound:.3g}; try η = {_nice(bound / 4):g}")
    if run.status == "diverged":
        return "diverged: the weights overflowed; use a smaller learning rate"
    return None


def _nice(x: float) -> float:
    """x rounded down to one significant digit (0.1667 → 0.1, 0.0068 → 0.006)."""
    e = 10.0 ** np.floor(np.log10(x))
    return float(np.floor(x / e) * e)


def update_out(u: perceptron.Update | None, X: np.ndarray) -> dict[str, Any] | None:
    if u is None:
        return None
    return {
        "step": u.step, "epoch": u.epoch, "index": u.index, "x": X[u.index], "phi": u.phi, "y": u.y,
        "score": u.score, "prediction": u.prediction, "decision": u.decision, "mistake": u.mistake,
        "w_before": u.w_before, "b_before": u.b_before, "dw": u.dw, "db": u.db,
        "w_after": u.w_after, "b_after": u.b_after,
    }


def summary(run: perceptron.Perceptron) -> dict[str, Any]:
    return {
        "status": run.status,
        "verdict": run.separable_verdict,
        "message": message(run),
        "step": run.step_count,
        "epoch": run.epoch,
        "position": run.position,
        "epochs_run": len(run.mistakes_per_epoch),
        "total_mistakes": run.total_mistakes,
        "mistakes_per_epoch": run.mistakes_per_epoch,
        "sq_error_per_epoch": run.sq_error_per_epoch,
        "w": run.w,
        "b": run.b,
        "epoch_sq_error": run.epoch_sq_error,
        "cycle_start": run.cycle_start,
    }


def data_out(cfg: PerceptronIn, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    return {
        "points": np.column_stack([X, y]),
        "features": cfg.features,
        "feature_labels": [features.FEATURES[f][0] for f in cfg.features],
        "extent": list(cfg.extent(X)),
    }


def grid_out(
    cfg: PerceptronIn, run: perceptron.Perceptron, X: np.ndarray, res: int = GRID_RES
) -> dict[str, Any]:
    """The score w·φ(x) + b over the shown square (row 0 at the top), quantized symmetric."""
    lo, hi = cfg.extent(X)
    s = run.score_grid(lo, hi, res, cfg.features)
    m = max(encoding.finite_range(s, symmetric=True)[1], 1e-9)
    return encoding.grid(s, -m, m)


def run_out(cfg: RunIn) -> dict[str, Any]:
    """The stateless run: every update or every epoch's weights, and the verdict."""
    run, X, y = build(cfg)
    out: dict[str, Any] = {"config": cfg.model_dump(), "data": data_out(cfg, X, y)}
    if cfg.record == "updates":
        updates = []
        while (u := run.step()) is not None:
            updates.append(update_out(u, X))
        out["updates"] = updates
    else:
        run.run()
        out["epochs"] = [
            {"epoch": e, "w": w, "b": b, "mistakes": run.mistakes_per_epoch[e - 1] if e else None}
            for e, (w, b) in enumerate(run.weights_per_epoch)
        ]
    out.update(summary(run))
    return encoding.finite(out)


class PerceptronRunner:
    """A live perceptron session: one unit of work = one example."""

    def __init__(self, cfg: PerceptronIn, settings: Settings) -> None:
        self.cfg = cfg
        self.settings = settings
        self.run, self.X, self.y = build(cfg)

    def advance(self, n: int) -> int:
        done = 0
        for _ in range(n):
            if self.run.step() is None:
                break
            done += 1
        return done

    def run_epochs(self, n: int) -> int:
        done = 0
        for _ in range(n):
            done += len(self.run.run_epoch())
            if self.run.done:
                break
        return done

    @property
    def done(self) -> bool:
        return self.run.done

    def reset(self) -> None:
        self.run.reset()

    def frame(self) -> dict[str, Any]:
        return encoding.finite({
            **summary(self.run),
            "update": update_out(self.run.last, self.X),
            "grid": grid_out(self.cfg, self.run, self.X),
        })

    def describe(self) -> dict[str, Any]:
        return encoding.finite({**self.cfg.model_dump(), "data": data_out(self.cfg, self.X, self.y)})

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Any config change starts the run over with the new settings.

        `state` (RunStateIn: w, b, epoch, position, mistakes …, as frames carry them) then
        continues a saved run from those weights, e.g. to import an exported one. Nothing
        changes when the config or the state is rejected (ValueError naming the field).
        """
        state = params.get("state")
        params = {k: v for k, v in params.items() if k != "state"}
        rule = perceptron.RULE_ALIASES.get(params.get("rule"), params.get("rule"))
        if rule in perceptron.DEFAULT_LR and "lr" not in params and \
                self.cfg.lr == perceptron.DEFAULT_LR[self.cfg.rule]:
            params["lr"] = perceptron.DEFAULT_LR[rule]  # a new rule brings its own η, unless η was set
        cfg = PerceptronIn(**{**self.cfg.model_dump(), **params})
        try:
            cfg.check_limits(self.settings)
        except HTTPException as exc:
            raise ValueError(exc.detail) from None
        run, X, y = build(cfg)
        if state is not None:
            try:
                run.restore(**RunStateIn.model_validate(state).model_dump())
            except ValidationError as exc:
                raise ValueError(state_errors(exc)) from None
            except ValueError as exc:
                raise ValueError(f"state: {exc}") from None
        self.cfg = cfg
        self.run, self.X, self.y = run, X, y
        return {"reset": True}
