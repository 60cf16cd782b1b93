"""Dependencies shared by the routers; tests override `get_settings` to tighten limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from app.limits import client_key
from app.sessions import ClientSessions, SessionStore
from app.settings import Settings, get_settings


def _store(request: Request) -> ClientSessions:
    """The session store, seen by the requesting client (sessions it creates count as its own)."""
    return ClientSessions(request.app.state.store, client_key(request.scope))


def _ws_store(websocket: WebSocket) -> SessionStore:
    return websocket.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ClientSessions, Depends(_store)]
WsStoreDep = Annotated[SessionStore, Depends(_ws_store)]
