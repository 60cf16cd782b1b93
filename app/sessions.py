"""Training sessions: a lab's runner plus its lock, kept in memory with idle eviction and caps.

A *runner* is the lab's engine object wrapped in the small protocol below; the store and the
stream know nothing else about a lab. The store keeps each runner inside an
`app.journal.Recorded`, which writes down every change so the run can be rebuilt elsewhere.

Ids are unguessable (secrets.token_urlsafe) and come from `new_id()`, which everything a worker
owns uses (sessions, the scale lab's sweeps; join codes start the same way). With several
workers behind the proxy, every id starts with its worker's two-character name
(NP_WORKER_NAME), and the proxy sends any path with `/sessions/<id>`, `/sweeps/<id>` or
`/join/<code>` to the worker the first two characters name (deploy/nginx.conf.in).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import HTTPException, status

from app.journal import Recorded
from app.settings import get_settings

ACTIVE_SECONDS = 60.0  # a session used this recently counts as in use for NP_CAPACITY
_worker_name: str | None = None  # set by the app from its settings; None: read the settings


def name_worker(name: str | None) -> None:
    """Make `name` this process's worker name (the app does it from its settings at start)."""
    global _worker_name
    _worker_name = name


def worker_prefix() -> str:
    """What every id this process hands out starts with: "" for a single process, else the
    worker's two-character name (NP_WORKER_NAME: capitals and digits from
    app.settings.WORKER_ALPHABET, so join codes built on it stay typable)."""
    return get_settings().worker_name if _worker_name is None else _worker_name


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
    client: str = ""  # the address that created it (its quota counts it)
    playing: bool = False
    speed: int = 1
    subscribers: set[Any] = field(default_factory=set)
    player: Any = None  # the asyncio task that plays it (app.streaming)
    journal_sent: int = -1  # the journal version its pages were sent last
    chunk: int = 1  # units its work runs per call, as app.work.run_chunked last found them
    chunk_version: Any = None  # the runner's version that chunk was found for

    def touch(self) -> None:
        self.last_used = time.monotonic()


class SessionStore:
    """Sessions by id, at most `max_sessions` in all and `per_client` for one address.

    Past a client's share, its own least recently used unwatched session makes room; past the
    server's, sessions idle longer than the setting do. Otherwise creating one is refused (429
    with Retry-After), never by slowing everyone."""

    def __init__(self, max_sessions: int, idle_seconds: float, per_client: int = 0, capacity: int = 0,
                 journal_bytes: int = 1024 * 1024) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.per_client = per_client or None  # None: no share per client
        self.capacity = capacity or None  # None: no admission limit
        self.journal_bytes = journal_bytes
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def playing(self) -> int:
        return sum(1 for s in list(self._sessions.values()) if s.playing)

    def in_use(self) -> int:
        """Sessions a page watches or a client used in the last ACTIVE_SECONDS."""
        now = time.monotonic()
        return sum(1 for s in list(self._sessions.values())
                   if s.subscribers or now - s.last_used < ACTIVE_SECONDS)

    def _admit(self) -> None:
        """503 + Retry-After when this worker already serves its capacity (NP_CAPACITY)."""
        if self.capacity is None:
            return
        in_use = self.in_use()
        if in_use >= self.capacity:
            playing = sum(1 for s in self._sessions.values() if s.playing)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                [{"loc": [], "type": "server_full",
                  "ctx": {"sessions": in_use, "playing": playing, "capacity": self.capacity},
                  "msg": f"the server is full: {in_use} students are playing; retry in a moment "
                         f"(this server admits {self.capacity} at once, NP_CAPACITY)"}],
                headers={"Retry-After": "20"},
            )

    def create(self, lab: str, runner: Runner, client: str = "") -> Session:
        with self._lock:
            own = [s for s in self._sessions.values() if s.client == client] if self.per_client else []
            if self.per_client and len(own) >= self.per_client:
                unwatched = [s for s in own if not s.subscribers]
                if not unwatched:
                    raise HTTPException(
                        status.HTTP_429_TOO_MANY_REQUESTS,
                        [{"loc": [], "type": "too_many_sessions", "ctx": {"sessions": len(own)},
                          "msg": f"your browser (or address) already watches {len(own)} sessions, "
                                 "the most one client "
                                 "may hold (NP_MAX_SESSIONS_PER_CLIENT); close a page of the playground "
                                 "and retry"}],
                        headers={"Retry-After": "10"},
                    )
                self._drop(min(unwatched, key=lambda s: s.last_used))
            self._admit()
            if len(self._sessions) >= self.max_sessions:
                self._evict_locked()
            if len(self._sessions) >= self.max_sessions:
                playing = sum(1 for s in self._sessions.values() if s.playing)
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    [{"loc": [], "type": "server_full",
                      "ctx": {"sessions": len(self._sessions), "playing": playing},
                      "msg": f"the server is full: it holds its maximum of {self.max_sessions} sessions "
                             f"(NP_MAX_SESSIONS), {playing} playing; retry in a moment, or delete one "
                             "you no longer use (DELETE .../sessions/{id})"}],
                    headers={"Retry-After": "10"},
                )
            sid = new_id()
            session = Session(sid, lab, Recorded(runner, self.journal_bytes), client=client)
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
            self._drop(session)

    def _drop(self, session: Session) -> None:
        session.playing = False
        self._sessions.pop(session.id, None)
        for page in list(session.subscribers):  # pages watching it hear that it is gone
            end = getattr(page, "end", None)
            if end is not None:
                end()

    def _evict_locked(self) -> int:
        now = time.monotonic()
        stale = [
            s for s in self._sessions.values()
            if not s.subscribers and now - s.last_used > self.idle_seconds
        ]
        for s in stale:
            self._drop(s)
        return len(stale)

    def evict_idle(self) -> int:
        """Drop sessions nobody watches that were idle longer than the setting."""
        with self._lock:
            return self._evict_locked()


class ClientSessions:
    """The store as one client's requests see it: what they create counts against its share."""

    def __init__(self, store: SessionStore, client: str) -> None:
        self.store, self.client = store, client

    def __len__(self) -> int:
        return len(self.store)

    def create(self, lab: str, runner: Runner) -> Session:
        return self.store.create(lab, runner, self.client)

    def find(self, lab: str, sid: str) -> Session | None:
        return self.store.find(lab, sid)

    def get(self, lab: str, sid: str) -> Session:
        return self.store.get(lab, sid)

    def delete(self, lab: str, sid: str) -> None:
        self.store.delete(lab, sid)


def _malloc_trim() -> Any:
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Give freed memory back to the system (glibc keeps freed arrays' pages otherwise, so a
    server's RSS would stay at its peak after every session is gone)."""
    if _TRIM is not None:
        _TRIM(0)
