"""Bounded background work of the self-supervised lab: the probe table and the τ / N sweep.

A job runs an engine generator (engine.contrastive_eval) in a daemon thread and keeps what it
yielded so far, its progress and its state: queued → running → done | cancelled | failed.
At most `max_ssl_jobs` (NP_MAX_SSL_JOBS) jobs compute at once on the server; the others wait
their turn as "queued", so a lecture hall pressing "sweep" together gets answers one after
the other instead of a server that slows every stream. A session holds at most one job of
each kind; starting one cancels the one before, and a reset or new config cancels both. A job
holds its session's runner only weakly: once the session is deleted or evicted, its jobs stop.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("playground.selfsupervised")

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def slots(n: int) -> threading.BoundedSemaphore:
    """The server's semaphore of n job slots (one per setting value, so tests may use others)."""
    with _slots_lock:
        if n not in _slots:
            _slots[n] = threading.BoundedSemaphore(max(1, n))
        return _slots[n]


class Job:
    """One background computation: `work(job)` yields results and may call `job.advance()`."""

    def __init__(self, kind: str, total: int, work: Callable[[Job], Iterator[Any]], max_jobs: int,
                 info: dict[str, Any] | None = None, owner: object | None = None) -> None:
        self.kind = kind
        self.total = max(1, total)
        self.done = 0.0  # units finished (fractional while a unit is under way)
        self.results: list[Any] = []
        self.state = "queued"
        self.error: str | None = None
        self.info = info or {}
        self.version = 0  # bumps on every change: a page redraws only when it moved
        self._cancel = threading.Event()
        self._owner = weakref.ref(owner) if owner is not None else None
        self._finished = threading.Event()
        self._work = work
        self._slots = slots(max_jobs)
        self._thread = threading.Thread(target=self._run, name=f"ssl-{kind}", daemon=True)
        self._thread.start()

    @property
    def cancelled(self) -> bool:
        """Asked to stop, or its session is gone."""
        if self._owner is not None and self._owner() is None:
            self._cancel.set()
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def advance(self, done: float) -> None:
        self.done = min(float(self.total), done)
        self.version += 1

    def _run(self) -> None:
        try:
            while not self._slots.acquire(timeout=0.2):
                if self.cancelled:
                    self.state = "cancelled"
                    return
            try:
                if self.cancelled:
                    self.state = "cancelled"
                    return
                self.state = "running"
                self.version += 1
                for result in self._work(self):
                    if self.cancelled:
                        break
                    self.results.append(result)
                    self.version += 1
                self.state = "cancelled" if self.cancelled else "done"
                if self.state == "done":
                    self.done = float(self.total)
            finally:
                self._slots.release()
        except Exception as exc:  # a fault in one job must not take the session down
            log.exception("a %s job failed", self.kind)
            self.state, self.error = "failed", str(exc)
        finally:
            self.version += 1
            self._finished.set()

    @property
    def running(self) -> bool:
        return self.state in ("queued", "running")
