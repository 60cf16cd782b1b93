"""Jinja2 set-up and the context every page shares: embed, hidden controls, presenter mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.labs import BY_SLUG, LABS

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")

_TRUE = {"1", "true", "yes", "on"}


def view_options(request: Request) -> dict[str, Any]:
    """How a page is shown, from its query: embed=1, hide=a,b, present=1, autoplay=1."""
    q = request.query_params
    hide = {h.strip() for h in q.get("hide", "").split(",") if h.strip()}
    return {
        "embed": q.get("embed", "").lower() in _TRUE or request.url.path.startswith("/embed/"),
        "hide": hide,
        "present": q.get("present", "").lower() in _TRUE,
        "autoplay": q.get("autoplay", "").lower() in _TRUE,
    }


def render(request: Request, name: str, lab: str | None = None, **context: Any) -> HTMLResponse:
    """Render a page or partial with the shared context (labs, the current lab, view options)."""
    ctx = {"labs": LABS, "lab": BY_SLUG.get(lab) if lab else None, **view_options(request)}
    ctx.update(context)
    return templates.TemplateResponse(request, name, ctx)
