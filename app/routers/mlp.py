"""The MLP playground lab: sessions over REST, the live stream, and the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, Response

from app import streaming
from app.deps import SettingsDep, StoreDep, WsStoreDep
from app.mlp_session import Include, MLPConfigIn, MLPRunner, StepIn, config_out, snapshot
from app.sessions import Session
from app.templating import render

LAB = "mlp"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


def _runner(session: Session) -> MLPRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session, include: list[str], res: int = 50, neuron_res: int = 20) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {
            "id": session.id,
            "config": config_out(runner.cfg, runner.trainer),
            **snapshot(runner.trainer, include, res, neuron_res),
        }


def _check_res(settings: SettingsDep, *res: int) -> None:
    if max(res) > settings.max_grid:
        raise HTTPException(422, f"grid resolution at most {settings.max_grid} (NP_MAX_GRID)")


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
    include: list[Include] = Query(["metrics", "weights"]),  # noqa: B008
    res: int = Query(50, ge=2),
    neuron_res: int = Query(20, ge=2),
) -> dict[str, Any]:
    _check_res(settings, res, neuron_res)
    return _state(store.get(LAB, sid), include, res, neuron_res)


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Run `steps` mini-batch updates or `epochs` passes (default one step)."""
    _check_res(settings, body.res, body.neuron_res)
    session = store.get(LAB, sid)
    trainer = _runner(session).trainer
    with session.lock:
        n = body.steps or (body.epochs or 0) * trainer.batches_per_epoch or 1
        if n > settings.max_steps_per_call:
            raise HTTPException(
                422,
                f"{n} mini-batch steps is more than {settings.max_steps_per_call} per call "
                "(NP_MAX_STEPS_PER_CALL); call again to go on",
            )
        if body.epochs:
            trainer.run_epochs(body.epochs)
        else:
            trainer.step(n)
    return _state(session, body.include, body.res, body.neuron_res)


@api.post("/sessions/{sid}/reset")
def reset_session(sid: str, store: StoreDep) -> dict[str, Any]:
    session = store.get(LAB, sid)
    with session.lock:
        _runner(session).reset()
    return _state(session, ["metrics", "weights"])


@api.patch("/sessions/{sid}")
def update_session(sid: str, changes: dict[str, Any], store: StoreDep) -> dict[str, Any]:
    """Change config fields. Learning rate, optimizer hyperparameters, batch size and
    regularization continue the run; data, features or architecture start it over
    (`"reset": true` in the answer)."""
    session = store.get(LAB, sid)
    with session.lock:
        try:
            result = _runner(session).apply(changes)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            raise HTTPException(422, streaming.describe_error(exc)) from None
    return {**_state(session, ["metrics", "weights"]), **result}


@api.delete("/sessions/{sid}", status_code=204)
def delete_session(sid: str, store: StoreDep) -> Response:
    store.delete(LAB, sid)
    return Response(status_code=204)


@api.websocket("/sessions/{sid}/stream")
async def stream(websocket: WebSocket, sid: str, store: WsStoreDep, settings: SettingsDep) -> None:
    await streaming.serve_or_refuse(websocket, store.find(LAB, sid), settings)


pages = APIRouter(include_in_schema=False)


@pages.get("/labs/mlp", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    return render(request, "labs/mlp.html", lab=LAB)


router = APIRouter()
router.include_router(api)
router.include_router(pages)
