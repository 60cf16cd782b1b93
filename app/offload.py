"""API requests are answered on event loops of their own, never on the one that serves streams.

FastAPI does a request's JSON parsing, validation, error answers and the encoding of its
answer on the event loop that called it; a large body or answer takes milliseconds of CPU
there, and on a busy machine each CPU millisecond of the loop's is many more of waiting. The
main loop (uvicorn's) only reads requests, writes answers and serves the WebSockets and
/healthz; `RequestLoops.run` hands the rest of an API request to one of a few loops, each in a
thread of its own, and relays what it receives and sends back to the main loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestLoops:
    def __init__(self, count: int) -> None:
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._threads: list[threading.Thread] = []
        for i in range(max(1, count)):
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name=f"api-loop-{i}", daemon=True)
            thread.start()
            self._loops.append(loop)
            self._threads.append(thread)
        self._next = itertools.cycle(self._loops)

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """app(scope, receive, send) on one of the request loops; receive and send run here."""
        main = asyncio.get_running_loop()
        loop = next(self._next)
        context = contextvars.copy_context()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        tasks: list[asyncio.Task[None]] = []

        def relay(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def call(*args: Any) -> Any:
                return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fn(*args), main))
            return call

        relayed_receive: Callable[[], Awaitable[Message]] = relay(receive)
        relayed_send: Callable[[Message], Awaitable[None]] = relay(send)

        def finished(task: asyncio.Task[None]) -> None:
            if done.done():  # the caller stopped waiting
                return
            if task.cancelled():
                done.cancel()
            elif task.exception() is not None:
                done.set_exception(task.exception())  # type: ignore[arg-type]
            else:
                done.set_result(None)

        def start() -> None:
            if done.done():
                return
            task = loop.create_task(app(scope, relayed_receive, relayed_send), context=context)
            tasks.append(task)
            task.add_done_callback(finished)

        loop.call_soon_threadsafe(start)
        try:
            await asyncio.wrap_future(done)
        except asyncio.CancelledError:
            for task in tasks:
                loop.call_soon_threadsafe(task.cancel)
            raise

    def close(self) -> None:
        for loop in self._loops:
            loop.call_soon_threadsafe(loop.stop)
        for thread in self._threads:
            thread.join(5)
        for loop in self._loops:
            if not loop.is_running():
                loop.close()
