"""The optimizer lab: paths on loss surfaces (stateless), surface grids, live sessions, the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app import streaming
from app.deps import SettingsDep, StoreDep
from app.labs.optimizers.session import (
    PRECISION_DOC,
    OptimizersRunner,
    PathsIn,
    Precision,
    RaceIn,
    SurfaceName,
    check_points,
    paths_out,
    surface_grid,
)
from app.session_routes import add_session_routes
from app.sessions import Session
from app.templating import lab_page
from app.work import in_request
from engine import paths, schedules, surfaces

LAB = "optimizers"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


@api.post("/paths")
def compute_paths(body: PathsIn, settings: SettingsDep) -> dict[str, Any]:
    """Run every optimizer from every start point until each stops; answer paths, losses,
    stop reasons (diverged, escaped, gradient_norm, loss_change, early_stopping,
    max_iterations), each path's length and reversals and, with include_internals, the
    optimizer's internals at each point. Numbers are rounded to 6 significant digits unless
    `precision` is "full"."""
    body.check_limits(settings)
    race, runs = body.race(record_internals=body.include_internals)
    in_request(race.step, body.stop.max_iterations)
    return paths_out(body, race, runs, body.max_points, body.include_internals, body.precision)


@api.get("/surfaces")
def list_surfaces() -> dict[str, Any]:
    """Every surface with its parameters, window, minima and suggested learning rates, and the
    optimizers' and schedules' hyperparameters with their defaults."""
    return {
        "surfaces": [surfaces.describe(cls()) for cls in surfaces.SURFACES.values()],
        "optimizers": {k: paths.hyperparameter_defaults(k) for k in paths.KINDS},
        "schedules": {k: {p: d for p, (d, _, _) in s.param_specs.items()}
                      for k, s in schedules.SCHEDULES.items()},
        "stop_reasons": list(paths.STOP_REASONS),
    }


@api.get("/surfaces/{name}")
def surface(name: SurfaceName, request: Request, settings: SettingsDep,
            res: int = Query(100, ge=2, description="grid points per side")) -> dict[str, Any]:
    """The surface on a res × res grid as compact uint16 (rows are y from low to high), plus its
    description. Surface parameters go in the query: `?condition=20`."""
    if res > settings.max_grid:
        raise HTTPException(422, f"res at most {settings.max_grid} (NP_MAX_GRID)")
    params: dict[str, float] = {}
    for k, v in request.query_params.items():
        if k == "res":
            continue
        try:
            params[k] = float(v)
        except ValueError:
            raise HTTPException(422, f"surface parameter {k} must be a number, got {v!r}") from None
    try:
        s = surfaces.make(name, **params)
    except (KeyError, ValueError) as exc:
        raise HTTPException(422, streaming.describe_error(exc)) from None
    return {**surfaces.describe(s), **surface_grid(s, res)}


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    steps: int = Field(1, ge=1, description="updates of every running optimizer")
    include_internals: bool = False
    max_points: int = Field(1000, ge=2, le=20_001)
    precision: Precision = Field("display", description=PRECISION_DOC)  # type: ignore[valid-type]


def _runner(session: Session) -> OptimizersRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session, max_points: int = 1000, precision: str = "display") -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        out = paths_out(runner.cfg, runner.race, runner.runs, max_points, False, precision)
        return {"id": session.id, "config": runner.cfg.model_dump(), **out}


@api.post("/sessions", status_code=201)
def create_session(cfg: RaceIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a live race (nothing run yet); watch and drive it over .../stream."""
    cfg.check_limits(settings)
    session = store.create(LAB, OptimizersRunner(cfg, settings))
    return _state(session)


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep, settings: SettingsDep,
                 max_points: int = Query(1000, ge=2, le=20_001),
                 precision: Precision = Query("display", description=PRECISION_DOC),  # type: ignore[valid-type]
                 ) -> dict[str, Any]:
    """The race so far: every run's path and losses up to now."""
    session = store.get(LAB, sid)
    check_points(_runner(session).cfg, max_points, settings)
    return _state(session, max_points, precision)


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    if body.steps > settings.max_optimizer_iterations:
        raise HTTPException(422, f"steps at most {settings.max_optimizer_iterations} per call "
                            "(NP_MAX_OPTIMIZER_ITERATIONS)")
    session = store.get(LAB, sid)
    with session.lock:
        check_points(_runner(session).cfg, body.max_points, settings)
        in_request(_runner(session).advance, body.steps)
    return _state(session, body.max_points, body.precision)


add_session_routes(
    api, LAB, _state,
    patch_doc=(
        'Change any field of the race (surface, optimizers, starts, stop, seed); it starts over.'
    ),
)


pages = APIRouter(include_in_schema=False)


@pages.get(f"/labs/{LAB}", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    return lab_page(request, LAB, catalog=list_surfaces())


router = APIRouter()
router.include_router(api)
router.include_router(pages)
