"""Where CPU work runs: a few threads, shared fairly between clients, never the event loop.

Every frame a stream renders and every command it runs is a *job*: `await work.run(client, fn)`
waits for the client's turn (one job or API request at a time per client, see app.limits), then
for one of NP_WORK_THREADS threads, and runs fn there. Waiting is asyncio's (first come, first
served), so a client with many sessions playing gets one turn among the others, not one per
session, and the event loop only hands out turns and sends what the jobs produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from app.limits import Clients

T = TypeVar("T")

# How long a thread may hold the GIL while another waits (CPython's default is 5 ms). A frame
# job calls NumPy many times, and NumPy lets the GIL go around each larger operation; with a
# busy thread beside it, every call would wait up to 5 ms to get it back. 1 ms keeps short jobs
# (a frame, the event loop sending it) quick next to long ones, for a few % more switching.
SWITCH_INTERVAL = 0.001


class Work:
    def __init__(self, clients: Clients, threads: int) -> None:
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.clients = clients
        self.threads = max(1, threads)
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="work")
        self._free = asyncio.Semaphore(self.threads)

    async def run(self, client: str, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) on a work thread in `client`'s turn.

        The turn ends when fn returns, even when the caller stops waiting first (a page that
        left): a client never has two jobs running."""
        turn = self.clients.turn(client)
        await turn.acquire()
        try:
            await self._free.acquire()
        except BaseException:
            turn.release()
            raise
        loop = asyncio.get_running_loop()

        def release() -> None:
            self._free.release()
            turn.release()

        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            release()
            raise
        def done(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits any more
                loop.call_soon_threadsafe(release)

        future.add_done_callback(done)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
