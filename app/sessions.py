"""Training sessions: a lab's runner plus its lock, kept in memory with idle eviction and caps.

A *runner* is the lab's engine object wrapped in the small protocol below; the store and the
stream know nothing else about a lab. Session ids are unguessable (secrets.token_urlsafe) and
come from `new_id()`, which everything a worker owns uses (the scale lab's sweeps too), so that
ids carry their worker once `worker_prefix()` names it.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import HTTPException, status


def worker_prefix() -> str:
    """What every id this process hands out starts with: "" for a single process. A server of
    several workers behind a proxy that routes by id sets one per worker (letters and digits,
    upper case, so join codes built on it stay typable)."""
    return ""


def new_id() -> str:
    """An unguessable id for something this worker owns (a session, a sweep)."""
    return worker_prefix() + secrets.token_urlsafe(16)


class Runner(Protocol):
    """What a lab puts in a session."""

    def advance(self, n: int) -> int:
        """Run n units of work (mini-batch steps, examples, iterations); return how many ran."""

    def frame(self) -> dict[str, Any]:
        """The current state as a JSON-safe dict (no NaN), without the "type" key."""

    def reset(self) -> None:
        """Start the same run over from its seed."""

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Change settings mid-run (ValueError / ValidationError on bad ones); report what changed."""

    @property
    def done(self) -> bool:
        """True when playing should stop by itself (converged, finished or diverged)."""

    def describe(self) -> dict[str, Any]:
        """The configuration as JSON, enough to recreate the run."""


@dataclass(eq=False)
class Session:
    id: str
    lab: str
    runner: Runner
    lock: threading.RLock = field(default_factory=threading.RLock)
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    playing: bool = False
    speed: int = 1
    subscribers: set[Any] = field(default_factory=set)
    player: threading.Thread | None = None

    def touch(self) -> None:
        self.last_used = time.monotonic()


class SessionStore:
    def __init__(self, max_sessions: int, idle_seconds: float) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, lab: str, runner: Runner) -> Session:
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                self._evict_locked()
            if len(self._sessions) >= self.max_sessions:
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    f"the server holds its maximum of {self.max_sessions} sessions; "
                    "delete one you no longer use (DELETE .../sessions/{id}) or try later",
                )
            sid = new_id()
            session = Session(sid, lab, runner)
            self._sessions[sid] = session
            return session

    def find(self, lab: str, sid: str) -> Session | None:
        session = self._sessions.get(sid)
        return session if session is not None and session.lab == lab else None

    def get(self, lab: str, sid: str) -> Session:
        session = self.find(lab, sid)
        if session is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"no {lab} session {sid!r}: it was deleted, evicted after "
                f"{self.idle_seconds:.0f} s idle, or never existed; create a new one",
            )
        session.touch()
        return session

    def delete(self, lab: str, sid: str) -> None:
        session = self.get(lab, sid)
        with self._lock:
            self._sessions.pop(sid, None)
        session.playing = False

    def _evict_locked(self) -> int:
        now = time.monotonic()
        stale = [
            s for s in self._sessions.values()
            if not s.subscribers and now - s.last_used > self.idle_seconds
        ]
        for s in stale:
            s.playing = False
            del self._sessions[s.id]
        return len(stale)

    def evict_idle(self) -> int:
        """Drop sessions nobody watches that were idle longer than the setting."""
        with self._lock:
            return self._evict_locked()
