"""Reading a session's WebSocket in tests."""

from __future__ import annotations

import json
import zlib

import pytest


def until(ws, kind: str, limit: int = 500) -> dict:
    """Receive messages until one of type `kind` and return it (fail after `limit` others)."""
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
    pytest.fail(f"no {kind} message in {limit} messages")


def decode_binary(data: bytes) -> dict:
    """The JSON header of a binary frame (app.encoding.binary_message), grids left as blobs."""
    raw = zlib.decompress(data)
    size = int.from_bytes(raw[:4], "little")
    return json.loads(raw[4:4 + size])
