"""The session routes every stateful lab shares: reset, change, delete and the live stream.

Each lab's router keeps what differs (create, read, step, the page); `add_session_routes`
adds the rest under the lab's /api/v1/<lab> router, answering with the lab's own state view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket
from fastapi.responses import Response

from app import streaming
from app.deps import SettingsDep, StoreDep, WsStoreDep
from app.sessions import Session

StateView = Callable[[Session], dict[str, Any]]


def add_session_routes(api: APIRouter, lab: str, state: StateView, patch_doc: str) -> None:
    """POST …/sessions/{id}/reset, PATCH and DELETE …/sessions/{id}, WS …/sessions/{id}/stream."""

    @api.post("/sessions/{sid}/reset")
    def reset_session(sid: str, store: StoreDep) -> dict[str, Any]:
        """Start the run over from its seed."""
        session = store.get(lab, sid)
        with session.lock:
            session.runner.reset()
        return state(session)

    @api.patch("/sessions/{sid}", description=patch_doc)
    def update_session(sid: str, changes: dict[str, Any], store: StoreDep) -> dict[str, Any]:
        session = store.get(lab, sid)
        with session.lock:
            try:
                result = session.runner.apply(changes)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError too
                raise HTTPException(422, streaming.describe_error(exc)) from None
        return {**state(session), **(result or {})}

    @api.delete("/sessions/{sid}", status_code=204)
    def delete_session(sid: str, store: StoreDep) -> Response:
        store.delete(lab, sid)
        return Response(status_code=204)

    @api.websocket("/sessions/{sid}/stream")
    async def stream(websocket: WebSocket, sid: str, store: WsStoreDep, settings: SettingsDep) -> None:
        await streaming.serve_or_refuse(websocket, store.find(lab, sid), settings)
