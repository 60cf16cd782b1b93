"""The scale lab's API shapes (a sweep definition, one cell, a posted result) and the runner of
a cell session (one cell trained while a page watches it)."""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app import encoding
from app.settings import Settings
from engine import image_data, optimizers
from engine.scale_cells import MODELS, Cell, CellConfig, CellResult, CellShape, shape, train_pool
from engine.sweeps import Grid

ModelName = Literal[MODELS]  # type: ignore[valid-type]
DatasetName = Literal[image_data.DATASETS]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(optimizers.OPTIMIZERS)]  # type: ignore[valid-type]
Metric = Literal["test_error", "test_loss"]


class _Strict(BaseModel):
    """Numbers are numbers (no true, no "3"), no NaN or infinity, no unknown fields."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class SweepIn(_Strict):
    """A grid of training runs: every width × depth × training-set size × seed is one cell.
    The URL query of /labs/scale uses the same names (lists as "4,8,16")."""

    model: ModelName = Field("mlp", description="mlp (dense ReLU layers), cnn (two conv layers) or "
                             "random_features (frozen ReLU features, least-squares read-out)")
    dataset: DatasetName = "digits"
    widths: list[int] = Field([4, 8, 16, 32, 64], min_length=1, max_length=64, fail_fast=True,
                              description="hidden units (mlp), first-layer filters (cnn) or features")
    depths: list[int] = Field([1], min_length=1, max_length=8, fail_fast=True,
                              description="hidden layers (mlp only)")
    train_sizes: list[int] = Field([1438], min_length=1, max_length=64, fail_fast=True,
                                   description="training images")
    seeds: list[int] = Field([0], min_length=1, max_length=16, fail_fast=True)
    label_noise: float = Field(0, ge=0, le=100, description="training labels replaced by a random class, %")
    budget_unit: Literal["steps", "epochs", "flops"] = Field(
        "steps", description="what `budget` counts per cell: mini-batch updates, passes over the cell's "
        "training set, or training FLOPs (6 · MACs · examples)")
    budget: float = Field(400, gt=0, description="the per-cell training budget (ignored by random features, "
                          "which are solved exactly)")
    batch_size: int = Field(32, ge=1, le=1024)
    lr: float = Field(0.01, gt=0, le=10)
    optimizer: OptimizerName = "adam"
    ridge: float = Field(0, ge=0, le=1e6, description="λ of the random-features read-out (0: minimum norm)")
    mode: Literal["server", "class"] = Field(
        "server", description="server: this worker trains the cells; class: students who join train them")
    title: str = Field("", max_length=80)

    @model_validator(mode="after")
    def _consistent(self) -> SweepIn:
        for name in ("widths", "depths", "train_sizes"):
            values = getattr(self, name)
            if any(v < 1 for v in values):
                raise ValueError(f"{name} must be at least 1")
            if len(set(values)) != len(values):
                raise ValueError(f"{name} repeats a value")
        if any(s < 0 or s >= 2**32 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds are distinct integers 0 … 2³² − 1")
        if self.model != "mlp" and self.depths != [1]:
            raise ValueError(f"depths apply to model 'mlp' only; give depths [1] for {self.model!r}")
        pool = train_pool(self.dataset)
        if max(self.train_sizes) > pool:
            raise ValueError(f"{self.dataset} has {pool} training images: train_sizes at most {pool}")
        if self.budget_unit == "steps" and self.budget != int(self.budget):
            raise ValueError("a budget in steps is a whole number")
        return self

    def steps_for(self, width: int, depth: int, train_size: int) -> int:
        """Mini-batch updates of one cell under the budget (at least 1)."""
        if self.budget_unit == "steps":
            return int(self.budget)
        batch = min(self.batch_size, train_size)
        if self.budget_unit == "epochs":
            return max(1, math.ceil(self.budget * math.ceil(train_size / batch)))
        probe = self.base().with_changes(width=width, depth=depth, train_size=train_size, steps=1)
        per_step = 6.0 * shape(probe).macs * batch
        return max(1, int(self.budget // per_step))

    def base(self) -> CellConfig:
        return CellConfig(model=self.model, dataset=self.dataset, width=self.widths[0], depth=self.depths[0],
                          train_size=min(self.train_sizes), label_noise=self.label_noise / 100.0,
                          seed=self.seeds[0], batch_size=self.batch_size, lr=self.lr,
                          optimizer=self.optimizer, ridge=self.ridge)

    def grid(self) -> Grid:
        return Grid(self.base(), tuple(self.widths), tuple(self.train_sizes), tuple(self.depths),
                    tuple(self.seeds))

    def cells(self) -> list[CellConfig]:
        """Every cell's config, budgets resolved to steps."""
        return [c if c.model == "random_features" else c.with_changes(steps=self.steps_for(c.width, c.depth,
                                                                                            c.train_size))
                for c in self.grid().cells()]

    def check_limits(self, settings: Settings) -> list[CellConfig]:
        """The cells, or a 422 naming each setting the sweep goes past."""
        n_cells = len(self.widths) * len(self.depths) * len(self.train_sizes) * len(self.seeds)
        problems = []
        if n_cells > settings.scale_max_cells:
            problems.append(f"{n_cells} cells, at most {settings.scale_max_cells} (NP_SCALE_MAX_CELLS): "
                            "give fewer widths, sizes or seeds")
        if max(self.widths) > settings.scale_max_width:
            problems.append(f"widths at most {settings.scale_max_width} (NP_SCALE_MAX_WIDTH)")
        if max(self.depths) > settings.scale_max_depth:
            problems.append(f"depths at most {settings.scale_max_depth} (NP_SCALE_MAX_DEPTH)")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))
        cells = self.cells()
        shapes = [shape(c) for c in cells]
        if self.model != "random_features":
            worst = max(cells, key=lambda c: c.steps)
            if worst.steps > settings.scale_max_steps:
                problems.append(f"a cell of width {worst.width} on {worst.train_size} images would take "
                                f"{worst.steps} steps, at most {settings.scale_max_steps} "
                                "(NP_SCALE_MAX_STEPS)")
        heaviest = max(range(len(cells)), key=lambda k: shapes[k].flops)
        if shapes[heaviest].flops > settings.scale_max_cell_flops:
            c = cells[heaviest]
            problems.append(f"the cell of width {c.width}, depth {c.depth} on {c.train_size} images needs "
                            f"{shapes[heaviest].flops:.3g} FLOPs, at most "
                            f"{settings.scale_max_cell_flops:.3g} (NP_SCALE_MAX_CELL_FLOPS): lower the "
                            "budget or the largest width")
        total = sum(s.flops for s in shapes)
        if total > settings.scale_max_sweep_flops:
            problems.append(f"the sweep needs {total:.3g} FLOPs, at most "
                            f"{settings.scale_max_sweep_flops:.3g} (NP_SCALE_MAX_SWEEP_FLOPS): fewer "
                            "cells or a smaller budget")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))
        return cells


class CellIn(_Strict):
    """One cell, as a sweep hands it to a student (or a notebook asks for it)."""

    model: ModelName = "mlp"
    dataset: DatasetName = "digits"
    width: int = Field(32, ge=1)
    depth: int = Field(1, ge=1)
    train_size: int = Field(1438, ge=1)
    label_noise: float = Field(0, ge=0, le=1, description="share of training labels replaced, 0 … 1")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    steps: int = Field(400, ge=1)
    batch_size: int = Field(32, ge=1, le=1024)
    lr: float = Field(0.01, gt=0, le=10)
    optimizer: OptimizerName = "adam"
    ridge: float = Field(0, ge=0, le=1e6)

    def to_engine(self) -> CellConfig:
        try:
            return CellConfig(**self.model_dump())
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    def check_limits(self, settings: Settings) -> CellConfig:
        config = self.to_engine()
        s = shape(config)
        problems = []
        if config.width > settings.scale_max_width:
            problems.append(f"width at most {settings.scale_max_width} (NP_SCALE_MAX_WIDTH)")
        if config.depth > settings.scale_max_depth:
            problems.append(f"depth at most {settings.scale_max_depth} (NP_SCALE_MAX_DEPTH)")
        if config.model != "random_features" and config.steps > settings.scale_max_steps:
            problems.append(f"steps at most {settings.scale_max_steps} (NP_SCALE_MAX_STEPS)")
        if s.flops > settings.scale_max_cell_flops:
            problems.append(f"{s.flops:.3g} FLOPs, at most {settings.scale_max_cell_flops:.3g} "
                            "(NP_SCALE_MAX_CELL_FLOPS)")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))
        return config


def shape_out(s: CellShape) -> dict[str, Any]:
    return {"parameters": s.parameters, "macs": s.macs, "flops": s.flops, "units": s.units}


def result_out(r: CellResult | None) -> dict[str, Any] | None:
    return None if r is None else encoding.finite(r.to_dict())


class CurveIn(_Strict):
    step: list[float] = Field(max_length=64, fail_fast=True)
    flops: list[float] = Field(max_length=64, fail_fast=True)
    test_error: list[float] = Field(max_length=64, fail_fast=True)
    test_loss: list[float | None] = Field(max_length=64, fail_fast=True)
    train_error: list[float] = Field(max_length=64, fail_fast=True)


class ResultIn(_Strict):
    """A cell's result as a cell session's last frame carries it."""

    parameters: int = Field(ge=1)
    train_size: int = Field(ge=1)
    steps: int = Field(ge=0)
    flops: float = Field(ge=0)
    test_error: float = Field(ge=0, le=1)
    test_loss: float | None = Field(None, ge=0)
    train_error: float = Field(ge=0, le=1)
    train_loss: float | None = Field(None, ge=0)
    diverged: bool = False
    curve: CurveIn
    extra: dict[str, float | None] = Field({}, max_length=8)

    @model_validator(mode="after")
    def _curve_lengths(self) -> ResultIn:
        lengths = {len(v) for v in self.curve.model_dump().values()}
        if len(lengths) != 1:
            raise ValueError("curve lists must all have the same length")
        return self

    def to_engine(self) -> CellResult:
        nan = float("nan")
        curve = {k: [nan if v is None else v for v in vals] for k, vals in self.curve.model_dump().items()}
        return CellResult(self.parameters, self.train_size, self.steps, self.flops, self.test_error,
                          nan if self.test_loss is None else self.test_loss, self.train_error,
                          nan if self.train_loss is None else self.train_loss, self.diverged, curve,
                          {k: (nan if v is None else v) for k, v in self.extra.items()})


class PostResult(_Strict):
    lease: str = Field(min_length=8, max_length=64, description="the lease token the join answer gave")
    result: ResultIn


class JoinIn(_Strict):
    student: str | None = Field(None, min_length=8, max_length=64,
                                description="the token an earlier join gave (keeps your number and cells)")
    cells: int = Field(1, ge=1, description="how many cells to take at most")


class LeaseIn(_Strict):
    lease: str = Field(min_length=8, max_length=64)


class RunIn(_Strict):
    cells: int | None = Field(None, ge=1, description="at most this many more cells (default: all)")


class FitIn(_Strict):
    x: list[float] = Field(min_length=3, max_length=10_000, fail_fast=True)
    y: list[float] = Field(min_length=3, max_length=10_000, fail_fast=True)
    floor: bool = True

    @model_validator(mode="after")
    def _same_length(self) -> FitIn:
        if len(self.x) != len(self.y):
            raise ValueError("x and y must have the same length")
        return self


class CellRunner:
    """A cell session: one cell trained in pieces while a page watches it. Its configuration is
    fixed (a sweep's cell is what it is); `reset` starts it over from its seed."""

    def __init__(self, config: CellConfig) -> None:
        self.config = config
        self.cell = Cell(config)

    def advance(self, n: int) -> int:
        return self.cell.step(n)

    @property
    def done(self) -> bool:
        return self.cell.done

    def reset(self) -> None:
        self.cell = Cell(self.config)

    def frame(self) -> dict[str, Any]:
        cell = self.cell
        return {
            "units": cell.units,
            "total": cell.shape.units,
            "done": cell.done,
            "diverged": bool(cell.trainer is not None and cell.trainer.diverged),
            "curve": encoding.finite(cell.curve),
            "result": result_out(cell.result()) if cell.done else None,
        }

    def describe(self) -> dict[str, Any]:
        c = self.config
        return {"cell": c.canonical(), "shape": shape_out(self.cell.shape), "key": c.key()}

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("a cell's configuration is fixed; create a new session for another cell")

    def step_cost(self) -> int:
        """Work of one unit in examples × parameters (the stream's work budgets)."""
        c = self.config
        if c.model == "random_features":
            return max(1, (c.train_size + 400) * self.cell.shape.parameters)
        return max(1, min(c.batch_size, c.train_size) * self.cell.shape.parameters)
