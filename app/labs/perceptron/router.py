"""The perceptron lab: a stateless run, sessions over REST, the live stream, and the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.deps import SettingsDep, StoreDep
from app.labs.perceptron.session import PerceptronIn, PerceptronRunner, RunIn, StepIn, run_out
from app.session_routes import add_session_routes
from app.sessions import Session
from app.templating import lab_page

LAB = "perceptron"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


def _runner(session: Session) -> PerceptronRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {"id": session.id, "config": runner.describe(), **runner.frame()}


@api.post("/run")
def run(body: RunIn, settings: SettingsDep) -> dict[str, Any]:
    """Train to the end in one call: every update (`record: "updates"`) or every epoch's
    weights (`"epochs"`), with the verdict: converged, cycle, epoch_limit or diverged."""
    body.check_limits(settings, stateless=True)
    return run_out(body)


@api.post("/sessions", status_code=201)
def create_session(cfg: PerceptronIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a run to step live; the answer carries its id, data and the initial weights."""
    cfg.check_limits(settings)
    return _state(store.create(LAB, PerceptronRunner(cfg, settings)))


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep) -> dict[str, Any]:
    return _state(store.get(LAB, sid))


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Present `examples` examples or run `epochs` epochs to their end (default one example)."""
    session = store.get(LAB, sid)
    runner = _runner(session)
    n = body.examples or (body.epochs or 0) * len(runner.y) or 1
    if n > settings.max_steps_per_call:
        raise HTTPException(
            422, f"{n} examples is more than {settings.max_steps_per_call} per call (NP_MAX_STEPS_PER_CALL)"
        )
    with session.lock:
        if body.epochs:
            runner.run_epochs(body.epochs)
        else:
            runner.advance(n)
    return _state(session)


add_session_routes(
    api, LAB, _state,
    patch_doc=(
        'Change config fields; the run starts over with them. With `state` (w, b, epoch, '
        'position, mistakes_per_epoch, … as a frame carries them) it continues that saved run.'
    ),
)


pages = APIRouter(include_in_schema=False)


@pages.get("/labs/perceptron", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    return lab_page(request, LAB)


router = APIRouter()
router.include_router(api)
router.include_router(pages)
