"""The scale lab: sweeps and class experiments over REST and a live stream, cell sessions, the
lecturer's page /labs/scale and the students' join pages /join and /join/{code}.

Everything about a sweep is under /api/v1/scale/sweeps/{id}/… (and a join code's page under
/join/{code}, the code starting with the owning worker's prefix), so a proxy that routes by
id reaches the worker that owns it; cell sessions (/api/v1/scale/sessions/…) live wherever
they were created.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import io
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app import encoding, streaming
from app.deps import SettingsDep, StoreDep
from app.labs.scale import live, qr
from app.labs.scale.session import (
    CellIn,
    CellRunner,
    FitIn,
    JoinIn,
    LeaseIn,
    PostResult,
    RunIn,
    SweepIn,
    result_out,
    shape_out,
)
from app.labs.scale.store import ScaleState, normalize_code
from app.labs.scale.sweeps import Sweep
from app.session_routes import add_session_routes
from app.sessions import Session
from app.settings import Settings, get_settings
from app.templating import lab_page, render
from engine import image_data, powerlaw
from engine.scale_cells import MODELS, train_pool

LAB = "scale"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The worker's sweeps, cell cache and training threads; idle sweeps dropped regularly."""
    settings = app.dependency_overrides.get(get_settings, get_settings)()
    app.state.scale = ScaleState.start(settings)

    async def evict_forever() -> None:
        while True:
            await asyncio.sleep(settings.eviction_interval_seconds)
            app.state.scale.store.evict_idle(settings.scale_sweep_idle_seconds)

    task = asyncio.create_task(evict_forever())
    try:
        yield
    finally:
        task.cancel()
        app.state.scale.trainers.close()


def _scale(request: Request) -> ScaleState:
    return request.app.state.scale


def _ws_scale(websocket: WebSocket) -> ScaleState:
    return websocket.app.state.scale


ScaleDep = Annotated[ScaleState, Depends(_scale)]
WsScaleDep = Annotated[ScaleState, Depends(_ws_scale)]

api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


def origin(url: Any, settings: Settings) -> str:
    """Where students' phones reach this server: NP_SCALE_PUBLIC_URL, else the request's own."""
    if settings.scale_public_url:
        return settings.scale_public_url
    scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
    return f"{scheme}://{url.netloc}"


def join_url(sweep: Sweep, url: Any, settings: Settings) -> str:
    return f"{origin(url, settings)}/join/{sweep.code}"


# ---- sweeps --------------------------------------------------------------------------------

@api.post("/sweeps", status_code=201)
def create_sweep(definition: SweepIn, request: Request, scale: ScaleDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """A grid of cells (422 past NP_SCALE_MAX_CELLS or the compute budgets). Cells this worker
    has computed before are done at once. `mode` server: POST …/run trains the rest here;
    `mode` class: students join with the answer's `code` and train them."""
    configs = definition.check_limits(settings)
    sweep = scale.store.create(definition, configs, settings)
    sweep.fill_from(scale.cache)
    return sweep.state(scale.trainers.throughput, join_url(sweep, request.url, settings))


@api.get("/sweeps/{sid}")
def read_sweep(sid: str, request: Request, scale: ScaleDep, settings: SettingsDep,
               view: Literal["full", "summary"] = "full") -> dict[str, Any]:
    """The whole sweep (cells with results and curves, points, fits), or its summary only."""
    sweep = scale.store.get(sid)
    if view == "summary":
        summary = sweep.summary(scale.trainers.throughput)
        return {"id": sweep.id, "code": sweep.code, "mode": sweep.mode,
                "definition": sweep.definition.model_dump(), **summary}
    return sweep.state(scale.trainers.throughput, join_url(sweep, request.url, settings))


@api.delete("/sweeps/{sid}", status_code=204)
def delete_sweep(sid: str, scale: ScaleDep) -> Response:
    scale.store.delete(sid)
    return Response(status_code=204)


@api.post("/sweeps/{sid}/run")
def run_sweep(sid: str, scale: ScaleDep, body: RunIn | None = None) -> dict[str, Any]:
    """This worker trains the sweep's pending cells (`cells`: only that many more), in the
    background; a class experiment keeps the cells students hold."""
    sweep = scale.store.get(sid)
    sweep.run(body.cells if body else None)
    scale.trainers.wake()
    return sweep.progress(scale.trainers.throughput)


@api.post("/sweeps/{sid}/pause")
def pause_sweep(sid: str, scale: ScaleDep) -> dict[str, Any]:
    """Stop training new cells here (the cell in training finishes)."""
    sweep = scale.store.get(sid)
    sweep.pause()
    return sweep.progress(scale.trainers.throughput)


@api.post("/sweeps/{sid}/join")
def join_sweep(sid: str, body: JoinIn, scale: ScaleDep, settings: SettingsDep) -> dict[str, Any]:
    """A student takes cells of a class experiment: each with its config (train it in a cell
    session), a lease to renew while training and the URL to post its result to."""
    sweep = scale.store.get(sid)
    student, cells = sweep.join(body.student, body.cells, settings)
    base = f"/api/v1/{LAB}/sweeps/{sweep.id}/cells"
    progress = sweep.progress(scale.trainers.throughput)
    message = "" if cells else (
        "every cell is taken or done: watch the class plot"
        if progress["pending"] == 0 and progress["leased"] else "the experiment is complete")
    return {
        "student": student.token, "number": student.number, "sweep": sweep.id,
        "lease_seconds": settings.scale_lease_seconds, "message": message, "progress": progress,
        "cells": [{"k": c.k, "cell": c.config.canonical(), "shape": shape_out(c.shape), "lease": c.lease,
                   "lease_url": f"{base}/{c.k}/lease", "result_url": f"{base}/{c.k}/result"} for c in cells],
    }


@api.post("/sweeps/{sid}/cells/{k}/lease")
def renew_lease(sid: str, k: int, body: LeaseIn, scale: ScaleDep, settings: SettingsDep) -> dict[str, Any]:
    """Keep a cell while training it (409 once it went back to the pool)."""
    seconds = scale.store.get(sid).renew(k, body.lease, settings)
    return {"k": k, "expires_in": seconds}


@api.post("/sweeps/{sid}/cells/{k}/result")
def post_result(sid: str, k: int, body: PostResult, scale: ScaleDep) -> dict[str, Any]:
    """A student's finished cell, checked against the cell (422 when it is not one of its results)."""
    return scale.store.get(sid).post(k, body.lease, body.result.to_engine(), scale.cache)


CSV_COLUMNS = ("k", "model", "dataset", "width", "depth", "train_size", "label_noise", "seed", "steps",
               "batch_size", "lr", "optimizer", "ridge", "parameters", "macs", "flops", "status", "source",
               "student", "seconds", "test_error", "test_loss", "train_error", "train_loss", "diverged")


@api.get("/sweeps/{sid}/export")
def export_sweep(sid: str, request: Request, scale: ScaleDep, settings: SettingsDep,
                 format: Literal["csv", "json"] = "json") -> Response:
    """Every cell (CSV: one row a cell; JSON: the definition, cells with their curves, points, fits)."""
    sweep = scale.store.get(sid)
    state = sweep.state(scale.trainers.throughput, join_url(sweep, request.url, settings))
    name = f"scale-{sweep.code}-{time.strftime('%Y-%m-%d-%H%M%S')}"
    if format == "json":
        body = {"format": "neural-playground/scale-sweep", "version": 1, **state}
        return JSONResponse(body, headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for cell, config in zip(state["cells"], (c.config for c in sweep.cells), strict=True):
        row = {**config.canonical(), **cell, **(cell["result"] or {})}
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@api.get("/sweeps/{sid}/qr.svg")
def sweep_qr(sid: str, request: Request, scale: ScaleDep, settings: SettingsDep) -> Response:
    """The join link as a QR code (SVG, drawn here: no service outside this server)."""
    sweep = scale.store.get(sid)
    url = join_url(sweep, request.url, settings)
    return Response(_qr_svg(url), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


@functools.lru_cache(maxsize=64)
def _qr_svg(url: str) -> str:
    return qr.svg(url, title=f"Join: {url}")


@api.websocket("/sweeps/{sid}/stream")
async def sweep_stream(websocket: WebSocket, sid: str, scale: WsScaleDep, settings: SettingsDep) -> None:
    sweep = scale.store.find(sid)
    if sweep is None:
        await live.refuse(websocket)
        return
    url = join_url(sweep, websocket.url, settings)
    await live.serve(websocket, sweep, lambda: scale.trainers.throughput, url)


@api.get("/join/{code}")
def find_by_code(code: str, scale: ScaleDep) -> dict[str, Any]:
    """The class experiment a join code names (the code starts with its worker's prefix)."""
    sweep = scale.store.by_code(code)
    if sweep is None:
        raise HTTPException(404, f"no class experiment with code {code!r}: check the code on the screen")
    return {"sweep": sweep.id, "code": sweep.code, "mode": sweep.mode, "title": sweep.definition.title,
            "progress": sweep.progress(scale.trainers.throughput)}


# ---- one cell, and fits ----------------------------------------------------------------------

@api.post("/cells")
def train_cell(body: CellIn, scale: ScaleDep, settings: SettingsDep) -> dict[str, Any]:
    """Train one cell to its budget now (cached by config and seed) and return its result."""
    config = body.check_limits(settings)
    result, source = scale.compute(config)
    return {"cell": config.canonical(), "key": config.key(), "source": source, "result": result_out(result)}


@api.post("/fit")
def fit_power_law(body: FitIn) -> dict[str, Any]:
    """L(x) = a·x^(−α) + c fitted on log axes (floor false: c = 0); null with too few usable points."""
    fitted = powerlaw.fit(body.x, body.y, floor=body.floor)
    return {"fit": None if fitted is None else encoding.finite(fitted.to_dict())}


# ---- cell sessions (a student's run, watched live) -----------------------------------------

def _state(session: Session) -> dict[str, Any]:
    runner: CellRunner = session.runner  # type: ignore[assignment]
    with session.lock:
        return {"id": session.id, **runner.describe(), **runner.frame()}


@api.post("/sessions", status_code=201)
def create_session(body: CellIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """A cell trained step by step: watch it on …/sessions/{id}/stream (play, pause, step)."""
    config = body.check_limits(settings)
    return _state(store.create(LAB, CellRunner(config)))


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep) -> dict[str, Any]:
    return _state(store.get(LAB, sid))


@api.post("/sessions/{sid}/step")
def step_session(sid: str, store: StoreDep, settings: SettingsDep,
                 units: int = Query(1, ge=1, description="mini-batch updates (points of the path for "
                                                         "random features)")) -> dict[str, Any]:
    session = store.get(LAB, sid)
    with session.lock:
        try:
            streaming.check_work(session, settings, units)
        except ValueError as exc:
            raise HTTPException(422, f"{exc}; call again to go on") from None
        session.runner.advance(units)
    return _state(session)


add_session_routes(api, LAB, _state, patch_doc="A cell's configuration is fixed: every change is a 422.")


# ---- pages -----------------------------------------------------------------------------------

pages = APIRouter(include_in_schema=False)


def page_choices(settings: Settings) -> dict[str, Any]:
    return {
        "models": list(MODELS),
        "datasets": {name: train_pool(name) for name in image_data.DATASETS},
        "limits": {"max_cells": settings.scale_max_cells, "max_width": settings.scale_max_width,
                   "max_depth": settings.scale_max_depth, "max_steps": settings.scale_max_steps,
                   "max_cell_flops": settings.scale_max_cell_flops,
                   "max_sweep_flops": settings.scale_max_sweep_flops},
    }


@pages.get("/labs/scale", response_class=HTMLResponse)
def page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return lab_page(request, LAB, choices=page_choices(settings))


@pages.get("/join", response_class=HTMLResponse)
def join_form(request: Request, code: str = "") -> Response:
    """Type a code; the browser then opens /join/{code} (routed to the worker the code names)."""
    if code.strip():
        return RedirectResponse(f"/join/{normalize_code(code)}", status_code=303)
    return render(request, "labs/scale_join.html", lab=LAB, sweep=None, code="", missing=False)


@pages.get("/join/{code}", response_class=HTMLResponse)
def join_page(code: str, request: Request, scale: ScaleDep) -> HTMLResponse:
    sweep = scale.store.by_code(code)
    if sweep is None or sweep.mode != "class":
        response = render(request, "labs/scale_join.html", lab=LAB, sweep=None, code=code, missing=True)
        response.status_code = 404
        return response
    return render(request, "labs/scale_join.html", lab=LAB, sweep=sweep, code=sweep.code, missing=False)


router = APIRouter(lifespan=lifespan)
router.include_router(api)
router.include_router(pages)
