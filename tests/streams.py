"""Reading a session's WebSocket in tests."""

from __future__ import annotations

import pytest


def until(ws, kind: str, limit: int = 500) -> dict:
    """Receive messages until one of type `kind` and return it (fail after `limit` others)."""
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
    pytest.fail(f"no {kind} message in {limit} messages")
