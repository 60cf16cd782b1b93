"""Where CPU work runs: a few threads, shared fairly between clients, never the event loop.

Every frame a stream renders and every command it runs is a *job*: `await work.run(client, fn)`
waits for the client's turn (one job or API request at a time per client, see app.limits), then
for one of NP_WORK_THREADS threads, and runs fn there. Waiting is asyncio's (first come, first
served), so a client with many sessions playing gets one turn among the others, not one per
session, and the event loop only hands out turns and sends what the jobs produced.

One Python process runs one thread's Python at a time (the GIL), whatever the threads. A long
job beside a short one would make the short one wait for the GIL at every NumPy call, so long
work runs in small chunks (`run_chunked`): it steps aside while another client's short work
wants to run, and while pages play beside it, it runs at most half the time. A page playing a
small network keeps its frame rate beside a client that trains the largest network the server
allows, which gets the rest (all of it when nobody else is there).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from app.limits import Clients

T = TypeVar("T")

# How long a thread may hold the GIL while another waits (CPython's default is 5 ms). A frame
# job calls NumPy many times, and NumPy lets the GIL go around each larger operation; with a
# busy thread beside it, every call would wait up to 5 ms to get it back. 1 ms keeps short jobs
# (a frame, the event loop sending it) quick next to long ones, for a few % more switching.
SWITCH_INTERVAL = 0.001
SHORT = 0.05  # work busy for less than this is short: long work steps aside for it
GAP = 0.01  # a client idle for less than this between two jobs stayed busy
LATELY = 0.5  # short work this recent makes long work share the CPU
SHARE = 1.0  # and long work then rests this many times as long as it ran
CHUNK_SECONDS = 0.002  # long work looks up whether to step aside about this often
PAUSE_MOST = 0.1  # and steps aside at most this long at a time, so it always gets on


class Work:
    current: ClassVar[Work | None] = None  # the server's, for work that runs in a request's thread

    def __init__(self, clients: Clients, threads: int) -> None:
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.clients = clients
        self.threads = max(1, threads)
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="work")
        self._free = asyncio.Semaphore(self.threads)
        self._lock = threading.Lock()
        self._wanting: Counter[str] = Counter()  # jobs and requests of a client waiting or running
        self._idle_since: dict[str, float] = {}
        self._last_busy: dict[str, float] = {}  # how long a client's last busy spell ran
        self._ran: dict[str, float] = {}  # seconds a client's work ran in its current busy spell
        self._running: dict[str, tuple[float, int]] = {}  # since when a client's work runs, nesting
        Work.current = self

    # ----- who is busy, since when -------------------------------------------------------------
    @contextlib.contextmanager
    def wanting(self, client: str, fresh: bool = False) -> Iterator[None]:
        """Mark that `client` waits for or runs work (a job or a request) while the block runs.

        A client is *busy* from when it starts wanting until it has wanted nothing for GAP
        seconds, and how busy is how long its work *ran* in that spell (`running`), not how long
        it waited for a thread: a page playing a small network runs a few ms each frame however
        long a full hall keeps it waiting; a client training a large network runs for as long as
        it trains. `fresh` starts a new spell when nothing else of the client waits or runs: a
        playing page's frame is work of its own, even when a full hall keeps the page wanting from
        one frame to the next."""
        with self._lock:
            now = time.monotonic()
            idle = not self._wanting[client]
            if idle and (fresh or now - self._idle_since.get(client, -math.inf) > GAP):
                self._ran[client] = 0.0
            self._wanting[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._wanting[client] -= 1
                if not self._wanting[client]:
                    del self._wanting[client]
                    now = time.monotonic()
                    self._idle_since[client] = now
                    self._last_busy[client] = self._busy(client, now)
                    if len(self._idle_since) > 4096:
                        self._forget_idle()

    @contextlib.contextmanager
    def running(self, client: str) -> Iterator[None]:
        """Mark that `client`'s work runs while the block runs (inside `wanting`): a job on a
        work thread; a request uses `start_running` and `stop_running`."""
        self.start_running(client)
        try:
            yield
        finally:
            self.stop_running(client)

    def start_running(self, client: str) -> None:
        with self._lock:
            since, depth = self._running.get(client, (time.monotonic(), 0))
            self._running[client] = (since, depth + 1)

    def stop_running(self, client: str) -> None:
        with self._lock:
            since, depth = self._running.pop(client)
            if depth > 1:
                self._running[client] = (since, depth - 1)
            else:
                self._ran[client] = self._ran.get(client, 0.0) + time.monotonic() - since

    def _busy(self, client: str, now: float) -> float:
        """Seconds `client`'s work has run in its busy spell (under the lock)."""
        since = self._running.get(client)
        return self._ran.get(client, 0.0) + (now - since[0] if since is not None else 0.0)

    def _forget_idle(self) -> None:
        old = time.monotonic() - 10 * GAP
        for c in [c for c, t in self._idle_since.items() if t < old and c not in self._wanting]:
            for table in (self._idle_since, self._last_busy, self._ran):
                table.pop(c, None)

    def should_yield(self, client: str) -> bool:
        """True when `client`'s work has run longer than SHORT in its busy spell and another
        client's short work (run less than SHORT) wants to run: long work steps aside for short."""
        with self._lock:
            now = time.monotonic()
            if self._busy(client, now) < SHORT:
                return False
            return any(c != client and self._busy(c, now) < SHORT for c in self._wanting)

    def shares(self, client: str) -> bool:
        """True when `client`'s work has run longer than SHORT in its busy spell while another
        client does short work again and again (a page playing: a few ms each frame, within the
        last LATELY s). Long work then rests SHARE times as long as it ran, so the short work
        finds the CPU free."""
        with self._lock:
            now = time.monotonic()
            if self._busy(client, now) < SHORT:
                return False
            for c, idle in self._idle_since.items():
                if c != client and now - idle < LATELY and self._last_busy.get(c, SHORT) < SHORT:
                    return True
            return False

    # ----- jobs -----------------------------------------------------------------------------------
    async def run(self, client: str, fn: Callable[..., T], *args: Any, fresh: bool = False) -> T:
        """fn(*args) on a work thread in `client`'s turn (`fresh`: see `wanting`).

        The turn ends when fn returns, even when the caller stops waiting first (a page that
        left): a client never has two jobs running."""
        return (await self.run_timed(client, fn, *args, fresh=fresh))[0]

    async def run_timed(self, client: str, fn: Callable[..., T], *args: Any,
                        fresh: bool = False) -> tuple[T, float]:
        """As `run`, with how long fn ran (not how long it waited for its turn and a thread)."""
        with self.wanting(client, fresh):
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

            def job() -> tuple[T, float]:
                with self.running(client):
                    started = time.monotonic()
                    return fn(*args), time.monotonic() - started

            try:
                future = self._executor.submit(job)
            except BaseException:
                release()
                raise

            def done(_: object) -> None:
                with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits any more
                    loop.call_soon_threadsafe(release)

            future.add_done_callback(done)
            return await asyncio.wrap_future(future)

    async def rest(self, client: str, ran: float) -> None:
        """After long work that ran `ran` seconds: rest (without a thread or a turn) while pages
        play beside it."""
        if self.shares(client):
            await asyncio.sleep(SHARE * ran)

    async def step_aside(self, client: str) -> None:
        """Wait (without a thread or a turn) while a lighter client wants to run, at most PAUSE_MOST."""
        deadline = time.monotonic() + PAUSE_MOST
        while self.should_yield(client) and time.monotonic() < deadline:
            await asyncio.sleep(CHUNK_SECONDS)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def in_request(step: Callable[[int], int], n: int) -> int:
    """Run n units of a request's work (step(k) runs up to k, returns how many) in chunks that
    step aside for lighter clients; returns how many ran."""
    from app.limits import CLIENT

    return run_chunked(step, n, client=CLIENT.get(), pause=True)[0]


def run_chunked(step: Callable[[int], int], n: int, *, client: str | None = None,
                seconds: float = math.inf, stop: Callable[[], bool] | None = None,
                pause: bool = False, pace: Any = None) -> tuple[int, str]:
    """Run n units as step(k) calls of about CHUNK_SECONDS each; step returns how many ran.
    `pace` (a session) remembers the size of those calls in its `chunk` from one run to the next:
    a page playing starts where its last frame left off instead of at one unit a call.

    Returns (units run, why it ended): "done" (all n), "finished" (step ran fewer: the run is
    over), "stopped" (stop() said so), "time" (`seconds` passed) or "yield" (a lighter client
    wants the CPU). With `pause`, it waits instead (sleeping, without the GIL) and goes on —
    for work in a request's own thread, which has no job to end."""
    work = Work.current
    started = time.monotonic()
    ran, chunk = 0, max(1, pace.chunk) if pace is not None else 1
    while ran < n:
        if stop is not None and stop():
            return ran, "stopped"
        k = min(chunk, n - ran)
        t0 = time.monotonic()
        did = step(k)
        took = time.monotonic() - t0
        ran += did
        if did < k:
            return ran, "finished"
        if took < CHUNK_SECONDS / 2 and k == chunk:
            chunk *= 2
        elif took > 2 * CHUNK_SECONDS and chunk > 1:
            chunk //= 2
        if pace is not None:
            pace.chunk = chunk
        if time.monotonic() - started > seconds:
            return ran, "time"
        if work is not None and client is not None:
            if work.should_yield(client):
                if not pause:
                    return ran, "yield"
                deadline = time.monotonic() + PAUSE_MOST
                while work.should_yield(client) and time.monotonic() < deadline:
                    time.sleep(CHUNK_SECONDS)
            elif pause and work.shares(client):
                time.sleep(SHARE * took)  # rest while pages play beside it
    return ran, "done"
