"""The optimizer lab's API shapes and its session runner (engine race → JSON paths and frames)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from app import encoding
from app.settings import Settings
from engine import paths, schedules, surfaces

SurfaceName = Literal[tuple(surfaces.SURFACES)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(paths.KINDS)]  # type: ignore[valid-type]
ScheduleName = Literal[tuple(schedules.SCHEDULES)]  # type: ignore[valid-type]
DIGITS = 6  # significant digits of every number sent (losses near a minimum are tiny)
Precision = Literal["display", "full"]
PRECISION_DOC = (
    "display (the default) rounds every number to 6 significant digits (plenty for a plot; tiny "
    "losses near a minimum keep their digits); full sends the engine's float64 values as computed "
    "(shortest repr that reads back exactly), to compare with your own run to 1e-12"
)
POINTS_PER_WORK = 64  # data points evaluated per update that cost one unit of work


def round_significant(values: np.ndarray, digits: int = DIGITS) -> np.ndarray:
    """`values` rounded to `digits` significant digits; NaN/±inf and 0 stay as they are.

    x is scaled by 10^e, e = digits − 1 − ⌊log10|x|⌋, rounded and scaled back. Below 1e-290 e
    passes 300 and 10^e would overflow, so there the scale is applied in two halves."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        ok = np.isfinite(x) & (x != 0)
        mag = np.where(ok, np.floor(np.log10(np.abs(np.where(ok, x, 1.0)))), 0.0)
        e = digits - 1 - mag
        e1 = np.floor(e / 2)
        s1, s2 = 10.0 ** e1, 10.0 ** (e - e1)  # each within 10^±170
        out = np.round(x * s1 * s2) / s2 / s1
        big = np.abs(e) < 290
        scale = 10.0 ** np.where(big, e, 0.0)
        out = np.where(big, np.round(x * scale) / scale, out)
    return np.where(ok, out, x)


def rounded(obj: Any, full: bool = False) -> Any:
    """A JSON-safe copy with floats rounded to DIGITS significant digits (NaN/inf → None);
    with `full`, every float as it is."""
    if full:
        return encoding.finite(obj)
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        return encoding.finite(round_significant(obj))
    if isinstance(obj, float | np.floating):
        return rounded(np.array([obj], dtype=np.float64))[0]
    if isinstance(obj, dict):
        return {k: rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v) for v in obj]
    return encoding.finite(obj)


class OptimizerIn(BaseModel):
    """One optimizer with torch.optim's hyperparameter names (lr apart, for sweeps)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    name: OptimizerName
    lr: float = Field(gt=0, le=100, description="learning rate γ (> 0)")
    hyperparameters: dict[str, float | bool] = Field(
        {}, description='other torch.optim hyperparameters, e.g. {"momentum": 0.9}; "sgd" also '
        'takes noise (gradient noise σ on analytic surfaces) and batch_size (real-loss surface)')
    schedule: ScheduleName = Field("none", description="learning-rate schedule")
    schedule_params: dict[str, float] = Field({}, description='e.g. {"step_size": 100, "gamma": 0.5}')
    label: str | None = Field(None, max_length=40, description="a name for this run in the answer")

    @model_validator(mode="after")
    def _known(self) -> OptimizerIn:
        try:
            self.spec((0.0, 0.0)).check()
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return self

    def spec(self, start: tuple[float, float]) -> paths.RunSpec:
        return paths.RunSpec(self.name, start, self.lr, tuple(sorted(self.hyperparameters.items())),
                             self.schedule, tuple(sorted(self.schedule_params.items())))


class StopIn(BaseModel):
    """Stopping rules; a tolerance of 0 (or patience 0) turns that rule off."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    max_iterations: int = Field(500, ge=1, description="updates at most (limit NP_MAX_OPTIMIZER_ITERATIONS)")
    grad_tol: float = Field(1e-6, ge=0, description="stop when ‖∇f‖ < grad_tol")
    loss_tol: float = Field(0.0, ge=0, description="stop when |f_k − f_(k−1)| < loss_tol")
    patience: int = Field(0, ge=0, description="early stopping: updates without a new best validation "
                          "loss (real-loss surface only)")


class RaceIn(BaseModel):
    """A race: every optimizer from every start point on one surface."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    surface: SurfaceName = "ravine"
    surface_params: dict[str, float] = Field({}, description='e.g. {"condition": 10} for the ravine')
    starts: list[Annotated[tuple[float, float], Strict(False)]] | None = Field(
        None, fail_fast=True, description="start points [x, y]; default: the surface's own start point")
    optimizers: list[OptimizerIn] = Field(min_length=1, fail_fast=True)
    stop: StopIn = StopIn()
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the mini-batch / gradient noise")

    @model_validator(mode="after")
    def _surface_ok(self) -> RaceIn:
        try:
            surfaces.make(self.surface, **self.surface_params)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if self.starts is not None:
            if not self.starts:
                raise ValueError("give at least one start point, or leave starts out")
            if not np.all(np.isfinite(np.array(self.starts))):
                raise ValueError("start points must be finite numbers")
        return self

    def check_limits(self, settings: Settings) -> None:
        """422 naming the server setting the race goes past."""
        problems = []
        if self.stop.max_iterations > settings.max_optimizer_iterations:
            problems.append(f"stop.max_iterations at most {settings.max_optimizer_iterations} "
                            "(NP_MAX_OPTIMIZER_ITERATIONS)")
        runs = self.run_count
        if runs > settings.max_optimizer_runs:
            problems.append(f"{runs} runs (optimizers × start points); at most "
                            f"{settings.max_optimizer_runs} (NP_MAX_OPTIMIZER_RUNS)")
        if not problems:
            work = self.work()
            if work > settings.max_optimizer_work:
                problems.append(
                    f"work {work:.0f} (runs × stop.max_iterations × (1 + data points per update / "
                    f"{POINTS_PER_WORK}), sgd's batch_size counted up to the training points, twice "
                    f"with include_internals); at most "
                    f"{settings.max_optimizer_work} (NP_MAX_OPTIMIZER_WORK)")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))

    @property
    def run_count(self) -> int:
        return len(self.optimizers) * len(self.starts or [None])

    def work(self) -> float:
        """What the race costs at most: Σ over runs of max_iterations × (1 + p / POINTS_PER_WORK),
        p the data points one update of the run evaluates (0 on an analytic surface). One unit
        is one update of one run on an analytic surface (≈ 3–10 µs on one core)."""
        surface = self.surface_obj()
        starts = len(self.starts or [None])
        total = 0.0
        for opt in self.optimizers:
            batch = 0
            if opt.name == "sgd":
                batch = int(opt.hyperparameters.get("batch_size", paths.KINDS["sgd"][1]["batch_size"]))
            total += starts * (1 + surface.points_per_update(batch) / POINTS_PER_WORK)
        return total * self.stop.max_iterations

    def surface_obj(self) -> surfaces.Surface:
        return surfaces.make(self.surface, **self.surface_params)

    def race(self, record_internals: bool = False) -> tuple[paths.Race, list[dict[str, Any]]]:
        """The engine race and, per run, which optimizer and start point it is (run order)."""
        surface = self.surface_obj()
        starts = self.starts or [surface.default_start]
        specs, runs = [], []
        for i, opt in enumerate(self.optimizers):
            for j, start in enumerate(starts):
                specs.append(opt.spec((float(start[0]), float(start[1]))))
                runs.append({"optimizer": opt.name, "label": opt.label or opt.name, "index": i,
                             "start_index": j, "start": list(start), "lr": opt.lr,
                             "hyperparameters": {**paths.hyperparameter_defaults(opt.name),
                                                 **opt.hyperparameters, "lr": opt.lr},
                             "schedule": opt.schedule, "schedule_params": opt.schedule_params})
        stop = paths.StopRules(self.stop.max_iterations, self.stop.grad_tol, self.stop.loss_tol,
                               self.stop.patience)
        return paths.Race(surface, specs, stop, self.seed, record_internals), runs


class PathsIn(RaceIn):
    include_internals: bool = Field(False, description="gradient, velocity, accumulator and step "
                                    "scale at every point of every path")
    max_points: int = Field(1000, ge=2, le=20_001, description="points per path at most (evenly "
                            "thinned, the last kept); `steps` gives each point's iteration")
    precision: Precision = Field("display", description=PRECISION_DOC)

    def work(self) -> float:
        """Recording the internals at every update costs about as much again (measured)."""
        return super().work() * (2 if self.include_internals else 1)

    def check_limits(self, settings: Settings) -> None:
        super().check_limits(settings)
        check_points(self, self.max_points, settings)


def check_points(cfg: RaceIn, max_points: int, settings: Settings) -> None:
    """422 when an answer could hold more than NP_MAX_OPTIMIZER_POINTS points: runs × the
    points a path can have, min(max_points, stop.max_iterations + 1)."""
    points = cfg.run_count * min(max_points, cfg.stop.max_iterations + 1)
    if points > settings.max_optimizer_points:
        raise HTTPException(
            422, f"over the server's limits: {points} points (runs × min(max_points, stop.max_iterations "
            f"+ 1)); at most {settings.max_optimizer_points} (NP_MAX_OPTIMIZER_POINTS)")


def _indices(n: int, most: int) -> list[int]:
    return encoding.decimate(list(range(n)), most)


def run_out(race: paths.Race, run: int, info: dict[str, Any], most: int,
            include_internals: bool, full: bool = False) -> dict[str, Any]:
    """One run's answer: its path (thinned), losses, why and when it stopped."""
    path = race.run_history(run, "path")
    idx = _indices(len(path), most)
    out = {**info, **race.status(run), "iterations": [int(i) for i in idx],
           "path": path[idx], "losses": race.run_history(run, "loss")[idx]}
    if race.has_validation:
        out["val_losses"] = race.run_history(run, "val")[idx]
    if include_internals:
        out["internals"] = {k: race.run_history(run, k)[idx] for k in paths.INTERNALS}
    return rounded(out, full)


def paths_out(cfg: RaceIn, race: paths.Race, runs: list[dict[str, Any]], most: int,
              include_internals: bool, precision: str = "display") -> dict[str, Any]:
    full = precision == "full"
    return {
        "surface": surfaces.describe(race.surface),
        "iterations": race.t,
        "done": race.done,
        "runs": [run_out(race, r, info, most, include_internals, full) for r, info in enumerate(runs)],
    }


def surface_grid(surface: surfaces.Surface, res: int) -> dict[str, Any]:
    """The surface on a res × res grid, uint16, as engine.surfaces.plot_grid scales it:
    "log" sends q = log10(f − offset) (value = 10^q + offset), "linear" sends f."""
    pg = surfaces.plot_grid(surface, res)
    return encoding.finite({
        "domain": [[float(pg.xs[0]), float(pg.xs[-1])], [float(pg.ys[0]), float(pg.ys[-1])]],
        "value_range": list(pg.value_range), "scale": pg.scale, "offset": pg.offset,
        "grid": encoding.grid(pg.plot, bits=16),
    })


class OptimizersRunner:
    """A live race: frames carry the points since the previous frame, heads and internals."""

    MOST_PER_FRAME = 60  # points per run in one frame (thinned when a frame covers more)

    def __init__(self, cfg: RaceIn, settings: Settings) -> None:
        self.settings = settings
        self._build(cfg)

    def _build(self, cfg: RaceIn) -> None:
        self.cfg = cfg
        self.race, self.runs = cfg.race()
        self.sent = -1  # the last iteration a frame carried

    def advance(self, n: int) -> int:
        return self.race.step(n)

    @property
    def done(self) -> bool:
        return self.race.done

    def reset(self) -> None:
        self.race.reset()
        self.sent = -1

    def frame(self) -> dict[str, Any]:
        """{"step", "from", "runs": [{status, lr, head internals, "iterations", "path", "losses"}]}:
        points of iterations after `from` up to `step`; a client that missed a frame (its last
        iteration ≠ from) reloads whole paths over REST (GET .../sessions/{id})."""
        race, first = self.race, self.sent + 1
        k = race.t
        idx = [first + i for i in _indices(k - first + 1, self.MOST_PER_FRAME)] if k >= first else []
        pts = race.history("path", first, k) if idx else np.empty((0, len(self.runs), 2))
        losses = race.history("loss", first, k) if idx else np.empty((0, len(self.runs)))
        sel = [i - first for i in idx]
        internals = race.internals()
        lr = race.lr_now()
        out_runs = []
        for r, info in enumerate(self.runs):
            row = race.row[r]
            st = race.status(r)
            keep = [j for j, i in zip(sel, idx, strict=True) if i <= st["steps"]]
            out_runs.append({
                "label": info["label"], "optimizer": info["optimizer"], "index": info["index"],
                "start_index": info["start_index"], **st, "lr": lr[row],
                "iterations": [first + j for j in keep], "path": pts[keep, row], "losses": losses[keep, row],
                **{name: internals[name][row] for name in paths.INTERNALS},
            })
        out = {"step": k, "from": self.sent, "done": race.done, "runs": out_runs}
        self.sent = k
        return rounded(out)

    def describe(self) -> dict[str, Any]:
        return {"config": self.cfg.model_dump(), "surface": surfaces.describe(self.race.surface),
                "runs": encoding.finite(self.runs)}

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Any RaceIn field; the race starts over with the new configuration."""
        cfg = RaceIn(**{**self.cfg.model_dump(), **params})
        try:
            cfg.check_limits(self.settings)
        except HTTPException as exc:
            raise ValueError(exc.detail) from None
        self._build(cfg)
        return {"reset": True}
