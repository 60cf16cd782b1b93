"""Error pages: a wrong address in a browser (an unknown lab, preset or short link) gets an HTML
page that says what is wrong and links back; /api/ paths keep the API's one JSON error shape
(app.errors)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import errors, presets
from app.labs import BY_SLUG
from app.templating import render, view_options

JSON_PREFIXES = ("/api/", "/static/", "/openapi.json", "/healthz")
TITLES = {404: "Not found", 405: "Not allowed", 413: "Too large", 422: "Cannot show this"}


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    path = request.url.path
    if path.startswith(JSON_PREFIXES):
        return await errors.http_error(request, exc)
    parts = path.strip("/").split("/")
    named = parts[1] if len(parts) >= 2 and parts[0] in ("labs", "embed") else None
    lab = named if named in BY_SLUG else None
    message = exc.detail if isinstance(exc.detail, str) else "This page does not exist."
    preset = request.query_params.get("preset")
    if named and not lab:
        message = f"There is no lab {named!r} here."
    elif lab and preset and exc.status_code == 404 and message.startswith("no preset"):
        message = f"There is no preset {preset!r} for the {BY_SLUG[lab].title} lab. Its presets are below."
    elif exc.status_code == 404 and message == "Not Found":
        message = "There is no page at this address."
    response = render(
        request, "error.html", lab=None, status=exc.status_code, message=message,
        title=TITLES.get(exc.status_code, "Something went wrong"),
        error_lab=BY_SLUG.get(lab) if lab else None,
        base="/embed" if view_options(request)["embed"] else "/labs",
        lab_scenes=presets.for_lab(lab) if lab else [],
    )
    response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def register(app: FastAPI) -> None:
    """Answer HTTP errors of pages with error.html, API errors in the shared JSON shape."""
    app.add_exception_handler(errors.RequestValidationError, errors.invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
