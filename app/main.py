"""The FastAPI application: lifespan (session store, eviction), routers, static files, headers."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from app import errors, labs, routers
from app.encoding import finite
from app.sessions import SessionStore
from app.settings import get_settings
from app.templating import ROOT


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.dependency_overrides.get(get_settings, get_settings)()
    app.state.store = SessionStore(settings.max_sessions, settings.session_idle_seconds)

    async def evict_forever() -> None:
        while True:
            await asyncio.sleep(settings.eviction_interval_seconds)
            app.state.store.evict_idle()

    task = asyncio.create_task(evict_forever())
    try:
        yield
    finally:
        task.cancel()


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

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        settings = app.dependency_overrides.get(get_settings, get_settings)()
        response.headers["Content-Security-Policy"] = content_security_policy(
            request.url.path, settings.frame_ancestors
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes the input; 1e400 or NaN in it would not encode as JSON.
        return JSONResponse(status_code=422, content={"detail": finite(jsonable_encoder(exc.errors()))})

    errors.register(app)  # HTML error pages for browsers, JSON for the API
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    for module in router_modules():
        app.include_router(module.router)
    return app


def router_modules() -> list[Any]:
    """The shared routers (app/routers/*.py), then every lab's (app/labs/<lab>/router.py)."""
    found = [f"{routers.__name__}.{m.name}" for m in pkgutil.iter_modules(routers.__path__)]
    found += [f"{labs.__name__}.{m.name}.router" for m in pkgutil.iter_modules(labs.__path__) if m.ispkg]
    return [importlib.import_module(name) for name in sorted(found)]


app = create_app()
