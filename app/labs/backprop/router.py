"""The backpropagation lab: the stateless trace, sessions over REST, the live stream, the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SettingsDep, StoreDep
from app.labs.backprop.session import BackpropIn, BackpropRunner, check_limits, full_trace
from app.session_routes import add_session_routes
from app.sessions import Session
from app.templating import lab_page

LAB = "backprop"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    steps: int = Field(1, ge=1, description="walk-through steps to go forward (2 → 3 → … → 6 → 2)")


def _runner(session: Session) -> BackpropRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {"id": session.id, "config": runner.describe(), **runner.frame()}


@api.post("/trace")
def trace(body: BackpropIn, settings: SettingsDep) -> dict[str, Any]:
    """Forward, error, backward and update of one iteration with every number (and the chain
    rule written out per weight), the computational graph, a numeric gradient check, and the
    error after each of `repeats` iterations."""
    check_limits(body, settings)
    return full_trace(body)


@api.post("/sessions", status_code=201)
def create_session(cfg: BackpropIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    check_limits(cfg, settings)
    return _state(store.create(LAB, BackpropRunner(cfg, settings)))


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep) -> dict[str, Any]:
    return _state(store.get(LAB, sid))


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    if body.steps > settings.max_steps_per_call:
        raise HTTPException(422, f"steps at most {settings.max_steps_per_call} (NP_MAX_STEPS_PER_CALL)")
    session = store.get(LAB, sid)
    with session.lock:
        _runner(session).advance(body.steps)
    return _state(session)


add_session_routes(
    api, LAB, _state,
    patch_doc=(
        'Change config fields; the walk-through starts over at step 1. With `state` (weights, '
        'bias_values, iteration, stage, losses, loss_iterations) it continues that saved one.'
    ),
)


pages = APIRouter(include_in_schema=False)


@pages.get("/labs/backprop", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    return lab_page(request, LAB)


router = APIRouter()
router.include_router(api)
router.include_router(pages)
