"""Dependencies shared by the routers; tests override `get_settings` to tighten limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from app.sessions import SessionStore
from app.settings import Settings, get_settings


def _store(request: Request) -> SessionStore:
    return request.app.state.store


def _ws_store(websocket: WebSocket) -> SessionStore:
    return websocket.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[SessionStore, Depends(_store)]
WsStoreDep = Annotated[SessionStore, Depends(_ws_store)]
