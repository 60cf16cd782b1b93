"""The live view of a sweep: one WebSocket per open lecturer page, `/api/v1/scale/sweeps/{id}/stream`.

On connecting the page gets the whole sweep (`{"type": "state", ...}`: definition, every cell,
progress, students, points, fits). After that, whenever cells change (this worker trained one,
a student took, renewed or posted one, a lease lapsed), it gets `{"type": "cells", "cells":
[...changed cells]}` followed by `{"type": "summary", ...}` (progress, students, points, fits,
double descent), at most four times a second: changes in between are merged, never queued.
The page may send `{"type": "state"}` to be sent the whole sweep again; anything else gets an
`error` message and the socket stays open.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from app.labs.scale.sweeps import Sweep, Watcher

MIN_INTERVAL = 0.25  # seconds between two updates of one page


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


async def serve(ws: WebSocket, sweep: Sweep, throughput: Callable[[], float | None], join_url: str) -> None:
    await ws.accept()
    watcher = Watcher(asyncio.get_running_loop())
    replies: collections.deque[dict[str, Any]] = collections.deque()
    want_state = True
    sweep.watchers.add(watcher)

    async def pump() -> None:
        nonlocal want_state
        sent = -1
        while True:
            while replies:
                await ws.send_text(_dumps(replies.popleft()))
            if want_state:
                want_state = False
                state = await asyncio.to_thread(sweep.state, throughput(), join_url)
                sent = state["version"]
                await ws.send_text(_dumps({"type": "state", **state}))
            elif sweep.version != sent:
                cells, sent = await asyncio.to_thread(sweep.changed_cells, sent)
                summary = await asyncio.to_thread(sweep.summary, throughput())
                if cells:
                    await ws.send_text(_dumps({"type": "cells", "cells": cells}))
                await ws.send_text(_dumps({"type": "summary", **summary}))
            await asyncio.sleep(MIN_INTERVAL)
            await watcher.event.wait()
            watcher.event.clear()

    task = asyncio.create_task(pump())
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                command = json.loads(message.get("text") or "")
            except ValueError:
                command = None
            if isinstance(command, dict) and command.get("type") == "state":
                want_state = True
            else:
                replies.append({"type": "error", "message": 'send {"type": "state"} to get the whole sweep '
                                "again; everything else is REST (POST …/run, …/pause, …/join)"})
            watcher.poke()
            sweep.touch()
    except WebSocketDisconnect:
        pass
    finally:
        sweep.watchers.discard(watcher)
        task.cancel()


async def refuse(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text(_dumps({"type": "error", "message": "no such sweep on this server: it was deleted or "
                               "dropped after being unused; reload the page"}))
    await ws.close(code=4404)
