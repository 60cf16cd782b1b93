"""The FastAPI application: lifespan (session store, eviction), routers, static files, headers."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from app import error_pages, errors, labs, routers, sessions
from app.limits import Clients, RequestLimits
from app.offload import RequestLoops
from app.sessions import SessionStore, release_memory
from app.settings import Settings, get_settings
from app.templating import ROOT
from app.work import Work
from engine import fused


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = current_settings(app)
    app.state.store = SessionStore(settings.max_sessions, settings.session_idle_seconds,
                                   settings.max_sessions_per_client, settings.capacity,
                                   settings.max_journal_bytes)
    sessions.name_worker(settings.worker_name)
    app.state.clients = Clients(settings)
    work = app.state.work = Work(app.state.clients, settings.work_threads)
    loops = app.state.api_loops = RequestLoops(settings.work_threads)

    async def evict_forever() -> None:
        while True:
            await asyncio.sleep(settings.eviction_interval_seconds)
            app.state.store.evict_idle()
            app.state.clients.forget_idle()
            # Freed frames, bodies and sessions go back to the system (off the loop: it takes the
            # allocator's locks); without it RSS stays at its peak once everyone has left.
            await asyncio.to_thread(release_memory)

    task = asyncio.create_task(evict_forever())
    if settings.compiled:  # compile the MLP's loop (or load numba's cache) before the first student
        threading.Thread(target=fused.warm, name="compile", daemon=True).start()
    try:
        yield
    finally:
        task.cancel()
        work.close()
        loops.close()
        if app.state.api_loops is loops:  # another lifespan of this app (a test's second client) may run on
            app.state.api_loops = None  # a client without the lifespan answers on the main loop


def current_settings(app: FastAPI) -> Settings:
    """The settings, or the ones a test put in place of them."""
    return app.dependency_overrides.get(get_settings, get_settings)()


def content_security_policy(path: str, frame_ancestors: str) -> str:
    # Swagger UI's page boots from one inline script; every other page runs only our files.
    script = "'self' 'unsafe-inline'" if path == "/docs" else "'self'"
    return (
        f"default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        f"form-action 'self'; frame-ancestors {frame_ancestors}"
    )


def create_app() -> FastAPI:
    app = FastAPI(
        title="Neural Playground",
        version="0.1.0",
        summary="A NumPy neural-network engine for teaching, with live labs and a REST API.",
        lifespan=lifespan,
        docs_url=None,  # served by app.routers.pages from vendored Swagger UI files
        redoc_url=None,
    )

    app.add_middleware(RequestLimits, settings_source=lambda: current_settings(app))

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        settings = current_settings(app)
        response.headers["Content-Security-Policy"] = content_security_policy(
            request.url.path, settings.frame_ancestors
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    error_pages.register(app)  # HTML error pages for browsers, JSON for the API
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    for module in router_modules():
        app.include_router(module.router, responses=errors.RESPONSES)
    return app


def router_modules() -> list[Any]:
    """The shared routers (app/routers/*.py), then every lab's (app/labs/<lab>/router.py)."""
    found = [f"{routers.__name__}.{m.name}" for m in pkgutil.iter_modules(routers.__path__)]
    found += [f"{labs.__name__}.{m.name}.router" for m in pkgutil.iter_modules(labs.__path__) if m.ispkg]
    return [importlib.import_module(name) for name in sorted(found)]


app = create_app()
