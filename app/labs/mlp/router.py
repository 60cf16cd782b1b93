"""The MLP playground lab: sessions over REST, the live stream, and the page."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from app import presets, streaming
from app.deps import SettingsDep, StoreDep
from app.labels import hyper_label
from app.labs.mlp.session import (
    PRECISION_DOC,
    Include,
    MLPConfigIn,
    MLPRunner,
    OptimizerName,
    Precision,
    StepIn,
    check_grid_bytes,
    config_out,
    snapshot,
)
from app.session_routes import add_session_routes
from app.sessions import Session
from app.settings import Settings
from app.templating import lab_page, render
from app.work import in_request
from engine import activations, datasets, features, losses, optimizers, regularizers

LAB = "mlp"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


def _runner(session: Session) -> MLPRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session, include: list[str], res: int = 50, neuron_res: int = 20,
           precision: str = "display") -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {
            "id": session.id,
            "config": config_out(runner.cfg, runner.trainer),
            **snapshot(runner.trainer, include, res, neuron_res, precision),
        }


def _check_res(settings: SettingsDep, include: list[str], *res: int) -> None:
    if "grids" in include and max(res) > settings.max_grid:
        raise HTTPException(422, f"grid resolution at most {settings.max_grid} (NP_MAX_GRID)")


def _check_grid_bytes(session: Session, settings: Settings, include: list[str], res: int,
                      neuron_res: int) -> None:
    if "grids" in include:
        try:
            check_grid_bytes(_runner(session).cfg, res, neuron_res, settings)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None


@api.post("/sessions", status_code=201)
def create_session(cfg: MLPConfigIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a run; the answer carries its id, the resolved config, metrics and weights."""
    cfg.check_limits(settings)
    session = store.create(LAB, MLPRunner(cfg, settings))
    return _state(session, ["metrics", "weights"])


@api.get("/sessions/{sid}")
def read_session(
    sid: str,
    store: StoreDep,
    settings: SettingsDep,
    include: list[Include] = Query(["metrics", "weights"]),
    res: int = Query(50, ge=2),
    neuron_res: int = Query(20, ge=2),
    precision: Precision = Query("display", description=PRECISION_DOC),  # type: ignore[valid-type]
) -> dict[str, Any]:
    """The run now: any of metrics, weights, trace, grids, history, optimizer, data, diagnosis."""
    _check_res(settings, include, res, neuron_res)
    session = store.get(LAB, sid)
    _check_grid_bytes(session, settings, include, res, neuron_res)
    return _state(session, include, res, neuron_res, precision)


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Run `steps` mini-batch updates or `epochs` passes (default one step); the answer carries
    what `include` names, rounded as `precision` says."""
    _check_res(settings, body.include, body.res, body.neuron_res)
    session = store.get(LAB, sid)
    _check_grid_bytes(session, settings, body.include, body.res, body.neuron_res)
    runner = _runner(session)
    with session.lock:
        n = body.steps or (runner.trainer.steps_for_epochs(body.epochs) if body.epochs else 1)
        try:
            streaming.check_work(session, settings, n)
        except ValueError as exc:
            raise HTTPException(422, f"{exc}; call again to go on") from None
        in_request(runner.advance, n)  # through the session's journal, which counts the units
    return _state(session, body.include, body.res, body.neuron_res, body.precision)


add_session_routes(
    api, LAB, lambda session: _state(session, ["metrics", "weights"]),
    patch_doc=(
        'Change config fields. Learning rate, optimizer hyperparameters, batch size, regularization '
        'and `added` points continue the run; data, features or architecture start it over '
        '(`"reset": true` in the answer). `weights` ([{"W", "b"}, ...]) loads parameters and '
        '`progress` ({"step", "epoch", "history"}) continues a saved run\'s count.'
    ),
)


pages = APIRouter(include_in_schema=False)


def page_choices(settings: Settings) -> dict[str, Any]:
    """What the page's controls offer, straight from the engine's registries."""
    return {
        "datasets": [{"name": d.name, "label": d.label, "problem": d.problem}
                     for d in datasets.DATASETS.values()],
        "features": [{"name": k, "label": v[0]} for k, v in features.FEATURES.items()],
        "activations": [{"name": a.name, "label": a.label} for a in activations.ACTIVATIONS.values()],
        "regularizers": [{"name": r.name, "label": r.label} for r in regularizers.REGULARIZERS.values()],
        "losses": [{"name": loss.name, "label": loss.label} for loss in losses.LOSSES.values()],
        "optimizers": {k: {k2: v2 for k2, v2 in cls.defaults.items() if k2 != "lr"}
                       for k, cls in optimizers.OPTIMIZERS.items()},
        "limits": {"max_layers": settings.max_layers, "max_neurons": settings.max_neurons,
                   "max_points": settings.max_points},
    }


def optimizer_fields(name: str, values: Any) -> list[dict[str, Any]]:
    """The hyperparameter fields of optimizer `name` (lr apart), current values over defaults."""
    given = values if isinstance(values, dict) else {}
    fields = []
    for key, default in optimizers.OPTIMIZERS[name].defaults.items():
        if key == "lr":
            continue
        value = given.get(key, default)
        kind = "bool" if isinstance(default, bool) else "float"
        fields.append({"name": key, "label": hyper_label(key), "kind": kind,
                       "default": default, "value": value})
    return fields


def _json_param(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # a link nesting JSON 1,000 deep is not a setting
            return None
    return raw


@pages.get("/labs/mlp", response_class=HTMLResponse)
def page(request: Request, settings: SettingsDep) -> HTMLResponse:
    params = presets.initial_params(request, LAB)
    optimizer = params.get("optimizer", "sgd")
    if optimizer not in optimizers.OPTIMIZERS:
        optimizer = "sgd"  # the page shows the server's 422 for the link's value
    return lab_page(
        request, LAB, params=params, choices=page_choices(settings), optimizer=optimizer,
        opt_fields=optimizer_fields(optimizer, _json_param(params.get("optimizer_params"))),
    )


@pages.get("/labs/mlp/partials/optimizer", response_class=HTMLResponse)
def optimizer_partial(request: Request, optimizer: OptimizerName = "sgd") -> HTMLResponse:  # type: ignore[valid-type]
    """The hyperparameter fields of one optimizer (an HTMX swap when the optimizer changes)."""
    return render(request, "partials/mlp_optimizer.html", lab=LAB, optimizer=optimizer,
                  opt_fields=optimizer_fields(optimizer, None))


router = APIRouter()
router.include_router(api)
router.include_router(pages)
