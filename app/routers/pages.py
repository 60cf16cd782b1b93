"""The gallery, the embed alias and the self-hosted API docs."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse

from app import presets
from app.labs import BY_SLUG
from app.templating import render

router = APIRouter(include_in_schema=False)

SWAGGER = "/static/vendor/swagger-ui-5.35.0"


@router.get("/", response_class=HTMLResponse)
def gallery(request: Request) -> HTMLResponse:
    """Every lab in lecture order, with its thumbnail, one line and its presets."""
    by_lab: dict[str, list[dict]] = {}
    for preset in presets.all_presets().values():
        by_lab.setdefault(preset["lab"], []).append(preset)
    return render(request, "gallery.html", presets_by_lab=by_lab)


@router.get("/embed/{lab}")
def embed(lab: str, request: Request) -> RedirectResponse:
    """`/embed/<lab>?...` is `/labs/<lab>?embed=1&...`: the same view without site chrome."""
    if lab not in BY_SLUG:
        raise HTTPException(404, f"no lab {lab!r}; labs are {sorted(BY_SLUG)}")
    query = request.url.query
    return RedirectResponse(f"/labs/{lab}?embed=1" + (f"&{query}" if query else ""), status_code=307)


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Neural Playground API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
