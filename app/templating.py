"""Jinja2 set-up and the context every page shares: embed, hidden controls, presenter mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import labels, presets
from app.labs import BY_SLUG, LABS

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.globals.update(control_label=labels.control_label, hyper_label=labels.hyper_label,
                             hyper_names={k: labels.hyper_label(k) for k in labels.HYPERPARAMETERS})

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


def view_query(view: dict[str, Any]) -> str:
    """The view options as a query fragment ("&embed=1&hide=lr"), for links that keep them."""
    pairs = {k: "1" for k in ("embed", "present", "autoplay") if view[k]}
    if view["hide"]:
        pairs["hide"] = ",".join(sorted(view["hide"]))
    return ("&" + urlencode(pairs, safe=",")) if pairs else ""


def render(request: Request, name: str, lab: str | None = None, **context: Any) -> HTMLResponse:
    """Render a page or partial with the shared context (labs, the current lab, view options,
    the lab's presets and the one opened)."""
    view = view_options(request)
    ctx = {
        "labs": LABS,
        "lab": BY_SLUG.get(lab) if lab else None,
        **view,
        "view_query": view_query(view),
        "lab_presets": presets.for_lab(lab) if lab else [],
        "preset": request.query_params.get("preset", ""),
        # the browser's token (app/limits.py), for scripts of a page framed by another site
        "browser_token": request.scope.get("state", {}).get("browser") or "",
    }
    ctx.update(context)
    return templates.TemplateResponse(request, name, ctx)


def lab_page(request: Request, lab: str, **context: Any) -> HTMLResponse:
    """A lab's page, templates/labs/<lab>.html, starting from the preset and query parameters."""
    context.setdefault("params", presets.initial_params(request, lab))
    return render(request, f"labs/{lab}.html", lab=lab, **context)
