"""Error answers: one shape for every 4xx, small whatever the input, documented in the OpenAPI.

Every error is `{"detail": [{"loc": [...], "msg": "...", "type": "..."}, ...]}`, the shape of
FastAPI's validation errors, so a client reads 400, 404, 413, 422 and 429 the same way. An
answer lists at most MAX_ERRORS problems (a last entry says how many were left out) and echoes
no input longer than MAX_ECHO characters, so a huge bad body gets a small answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.encoding import finite

MAX_ERRORS = 20  # problems listed in one answer
MAX_ECHO = 200  # characters of a bad input an answer repeats

# The `type` of an error an HTTPException raised with a plain message becomes, by status.
TYPES = {
    400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
    413: "too_large",
    422: "value_error", 429: "too_many_requests", 503: "server_full", 507: "storage_full",
}


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(
        description="where: body.field.index, query.name, …; empty for the whole request")
    msg: str = Field(description="what is wrong and what to change")
    type: str = Field(description="a short code: value_error, missing, not_found, too_large, …")
    input: Any = Field(None, description="the value that was refused (when short)")
    ctx: dict[str, Any] | None = Field(None, description="details of the rule, e.g. its limit")


class ErrorOut(BaseModel):
    detail: list[ErrorItem]


def _doc(text: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": text}


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("The body is not readable JSON"),
    404: _doc("No such session, preset or lab"),
    413: _doc("The body or the answer it asks for is larger than the server allows (NP_MAX_BODY_BYTES, "
              "NP_MAX_FRAME_BYTES)"),
    422: _doc("Invalid input, or over a limit of the server; each problem names its field or setting"),
    429: _doc("Too many requests or sessions from this client, or the server is full; wait the "
              "Retry-After header's seconds"),
    503: _doc("The server already serves as many students as it can (NP_CAPACITY): a new session is "
              "refused; wait the Retry-After header's seconds"),
}


def detail(msg: str, kind: str = "value_error", loc: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """One problem in the answer shape."""
    return [{"loc": list(loc), "msg": msg, "type": kind}]


def error_response(status: int, msg: str, kind: str | None = None, loc: tuple[str | int, ...] = (),
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail(msg, kind or TYPES.get(status, "error"), loc)},
                        status_code=status, headers=headers)


def _short(value: Any) -> tuple[bool, Any]:
    """(keep, value): an input worth echoing (short, JSON-safe, valid Unicode) or none."""
    try:
        text = json.dumps(finite(value), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False, None
    if len(text) > MAX_ECHO:
        return False, None
    return True, json.loads(text.encode("utf-8", "replace").decode("utf-8"))


def _clean_text(text: Any) -> str:
    return str(text).encode("utf-8", "replace").decode("utf-8")[:1000]


def capped(errors: list[dict[str, Any]], total: int | None = None) -> list[dict[str, Any]]:
    """At most MAX_ERRORS problems, each with a short echo; a last entry counts the rest."""
    total = len(errors) if total is None else total
    out = []
    for e in errors[:MAX_ERRORS]:
        item: dict[str, Any] = {
            "loc": [p if isinstance(p, int) else _clean_text(p) for p in e.get("loc", ())],
            "msg": _clean_text(e.get("msg", "")),
            "type": _clean_text(e.get("type", "value_error")),
        }
        if "input" in e:
            keep, value = _short(e["input"])
            if keep:
                item["input"] = value
        if isinstance(e.get("ctx"), dict):
            keep, value = _short({k: str(v) if isinstance(v, Exception) else v for k, v in e["ctx"].items()})
            if keep:
                item["ctx"] = value
        out.append(item)
    if total > len(out):
        out.append({"loc": [], "msg": f"and {total - len(out)} more problems left out",
                    "type": "more_errors"})
    return out


async def invalid_input(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 for input FastAPI refused, at most MAX_ERRORS problems with short echoes."""
    errors = exc.errors()
    return JSONResponse(status_code=422, content={"detail": capped(list(errors[:MAX_ERRORS]), len(errors))})


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Any HTTPException: a plain message becomes one problem of the shared shape."""
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        # the documented methods; a path the OpenAPI leaves out keeps Starlette's own answer
        own = (headers or {}).get("Allow", "GET")
        headers = {**(headers or {}), "Allow": allowed_methods(request) or own}
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(status_code=exc.status_code, headers=headers)
    if isinstance(exc.detail, list):
        items = capped([e if isinstance(e, dict) else {"msg": str(e)} for e in exc.detail])
    else:
        items = detail(_clean_text(exc.detail), TYPES.get(exc.status_code, "error"))
    return JSONResponse({"detail": items}, status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method the API documents at this path (Starlette names only the first route's)."""
    app = request.app
    paths = getattr(app.state, "allowed_paths", None)
    if paths is None:
        paths = app.state.allowed_paths = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"),
             {m.upper() for m in operations})
            for template, operations in app.openapi().get("paths", {}).items()
        ]
    methods: set[str] = set()
    for pattern, allowed in paths:
        if pattern.match(request.url.path):
            methods |= allowed
    return ", ".join(sorted(methods))


def describe(exc: Exception, most: int = 10) -> str:
    """One line a person can act on from a validation or value error: at most `most` problems."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        count = exc.error_count()
        parts = []
        for e in exc.errors(include_url=False, include_input=False)[:most]:
            where = ".".join(str(p) for p in e["loc"]) or "message"
            parts.append(f"{where}: {e['msg']}")
        if count > most:
            parts.append(f"and {count - most} more problems")
        return _clean_text("; ".join(parts))
    if isinstance(exc, KeyError) and exc.args:
        return _clean_text(exc.args[0])
    return _clean_text(exc)
