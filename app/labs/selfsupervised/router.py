"""The self-supervised lab: sessions over REST, probe tables and sweeps, views of an image, the
live stream and the page."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app import streaming
from app.deps import SettingsDep, StoreDep
from app.labs.selfsupervised.session import (
    AugmentRequest,
    Include,
    ProbeIn,
    SSLConfigIn,
    SSLRunner,
    StepIn,
    SweepIn,
    images_grid,
    job_out,
)
from app.session_routes import add_session_routes
from app.sessions import Session
from app.settings import Settings
from app.templating import lab_page
from engine import image_data, views
from engine.contrastive_trainer import ENCODERS

LAB = "selfsupervised"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])
PROBE_WAIT_SECONDS = 120.0  # a waiting probe call answers with the table so far after this


def _runner(session: Session) -> SSLRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session, include: list[str], row: int | None = None) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {"id": session.id, "config": runner.config_out(), **runner.snapshot(include, row)}


@api.post("/sessions", status_code=201)
def create_session(cfg: SSLConfigIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a contrastive run (no step taken yet): its id, resolved config and first metrics."""
    cfg.check_limits(settings)
    try:
        runner = SSLRunner(cfg, settings)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    session = store.create(LAB, runner)
    return _state(session, ["metrics"])


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep, include: list[Include] = Query(["metrics"]),
                 row: int | None = Query(None, ge=0, description="the similarity matrix's row to show")
                 ) -> dict[str, Any]:
    """The run now: `include` any of metrics, batch (views, 2N×2N similarities), row (its softmax
    at τ), embedding (the held-out 2-D view), history, heldout (images and labels), probe, sweep."""
    return _state(store.get(LAB, sid), include, row)


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Run `steps` contrastive steps (each: two views of N images, NT-Xent, one optimizer update)."""
    session = store.get(LAB, sid)
    with session.lock:
        try:
            streaming.check_work(session, settings, body.steps)
        except ValueError as exc:
            raise HTTPException(422, f"{exc}; call again to go on") from None
        _runner(session).advance(body.steps)
    return _state(session, body.include)


@api.post("/sessions/{sid}/probe")
def probe(sid: str, body: ProbeIn, store: StoreDep) -> JSONResponse:
    """The linear-probe table: logistic regression on the frozen encoder's h, trained with each
    share of the labels, for the contrastive encoder as it is now, the same encoder untrained
    (random) and trained with the labels (supervised). With `wait` the answer is the finished
    table (200); without, the job's state at once (202): follow it with GET …/probe."""
    session = store.get(LAB, sid)
    with session.lock:
        job = _runner(session).start_probe(body)
    if body.wait:
        job.wait(PROBE_WAIT_SECONDS)
    return JSONResponse(job_out(job), status_code=200 if not job.running else 202)


@api.get("/sessions/{sid}/probe")
def read_probe(sid: str, store: StoreDep) -> dict[str, Any]:
    """The probe job: state, progress and the cells computed so far (null before the first)."""
    return {"probe": job_out(_runner(store.get(LAB, sid)).jobs["probe"])}


@api.post("/sessions/{sid}/sweep", status_code=202)
def sweep(sid: str, body: SweepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Train a short run for each τ (at this session's N) and each N (at its τ) from its seed and
    probe each: bounded background work; follow it with GET …/sweep or the stream."""
    body.check_limits(settings)
    session = store.get(LAB, sid)
    with session.lock:
        job = _runner(session).start_sweep(body)
    return job_out(job)  # type: ignore[return-value]


@api.get("/sessions/{sid}/sweep")
def read_sweep(sid: str, store: StoreDep) -> dict[str, Any]:
    return {"sweep": job_out(_runner(store.get(LAB, sid)).jobs["sweep"])}


@api.delete("/sessions/{sid}/sweep", status_code=204)
def cancel_sweep(sid: str, store: StoreDep) -> None:
    """Stop a running sweep (the points it finished stay readable)."""
    job = _runner(store.get(LAB, sid)).jobs["sweep"]
    if job is not None:
        job.cancel()


@api.get("/sessions/{sid}/neighbours")
def neighbours(sid: str, store: StoreDep, index: int = Query(ge=0, description="a held-out image"),
               k: int = Query(8, ge=1, le=32)) -> dict[str, Any]:
    """The k held-out images nearest to image `index` in embedding space (cosine of z), with
    their classes: the first image of `images` is the query, then its neighbours."""
    session = store.get(LAB, sid)
    with session.lock:
        try:
            return _runner(session).neighbours(index, k)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None


@api.post("/augment")
def augment(body: AugmentRequest, settings: SettingsDep) -> dict[str, Any]:
    """Random views of one image with these strengths (what the lab's batches are made of)."""
    if body.image is not None:
        image = np.asarray(body.image, dtype=np.float64)  # rectangular, at most 64 × 64: checked
        if not (4 <= image.shape[0] <= 64 and 4 <= image.shape[1] <= 64):
            raise HTTPException(422, f"image: 4 … 64 pixels a side, not {image.shape[0]} × {image.shape[1]}")
        if not np.all((image >= 0) & (image <= 1)):
            raise HTTPException(422, "image: pixel values must be in [0, 1]")
        image, label = image[None, None], None
    else:
        data = image_data.load(body.dataset, seed=0)
        if body.index >= len(data):
            raise HTTPException(422, f"index must be below {len(data)} (the {body.dataset} images)")
        image, label = data.images[body.index][None], int(data.labels[body.index])
    aug = body.to_engine()
    out = views.apply(np.repeat(image, body.views, axis=0), aug, np.random.default_rng(body.seed))
    return {"image": images_grid(image), "label": label, "views": images_grid(out),
            "augmentation": aug.active(), "seed": body.seed}


add_session_routes(
    api, LAB, lambda session: _state(session, ["metrics"]),
    patch_doc=(
        "Change config fields or the view's `row`. τ, N, the learning rate, the optimizer and the "
        "augmentations continue the run; data, encoder or embed_dim start it over "
        '(`"reset": true` in the answer, and running jobs stop).'
    ),
)


pages = APIRouter(include_in_schema=False)


def page_choices(settings: Settings) -> dict[str, Any]:
    return {
        "transforms": [{"name": k, "label": t.label, "strength": t.strength, "unit": t.unit, "lo": t.lo,
                        "hi": t.hi, "on": t.on, "integer": t.integer,
                        "default": getattr(views.Augmentation(), k)} for k, t in views.TRANSFORMS.items()],
        "encoders": list(ENCODERS),
        "datasets": list(image_data.DATASETS),
        "limits": {"max_batch": settings.max_ssl_batch},
    }


@pages.get("/labs/selfsupervised", response_class=HTMLResponse)
def page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return lab_page(request, LAB, choices=page_choices(settings))


router = APIRouter()
router.include_router(api)
router.include_router(pages)
