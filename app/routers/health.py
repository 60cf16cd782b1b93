"""Liveness for load balancers and the Docker HEALTHCHECK.

Answered on the event loop itself (no thread), so it says how responsive the loop is.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.streaming import BOOT

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    store = request.app.state.store
    return {"status": "ok", "sessions": len(store), "playing": store.playing(), "server": BOOT}
