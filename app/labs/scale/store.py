"""This worker's sweeps (by id and by join code) and the threads that train their cells.

`SweepStore` keeps the sweeps this process created, capped and dropped when idle;
`Trainers` train the cells of sweeps that run here, sweeps taking turns; `ScaleState` is what
the lab keeps per worker (app.state.scale). Join codes are this worker's prefix and five
characters nobody confuses on a projector, so a proxy routes /join/{code} like an id.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import HTTPException, status

from app import sessions
from app.labs.scale.session import SweepIn
from app.labs.scale.sweeps import CellCache, Sweep, SweepCell
from app.settings import Settings
from engine.scale_cells import CellConfig, CellResult, run_cell

log = logging.getLogger("playground.scale")

# Join codes: five characters nobody confuses when reading them off a projector (no 0/O, 1/I/L).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5


def new_code() -> str:
    """This worker's prefix and five random characters: what students type."""
    return sessions.worker_prefix() + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """A typed code as issued: spaces and dashes dropped, the random part upper-cased."""
    text = "".join(ch for ch in text.strip() if ch not in " -")
    prefix = sessions.worker_prefix()
    if prefix and text.upper().startswith(prefix.upper()):
        return prefix + text[len(prefix):].upper()
    return text.upper()


class SweepStore:
    """This worker's sweeps by id, and their join codes."""

    def __init__(self) -> None:
        self._sweeps: dict[str, Sweep] = {}
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._turn = 0

    def __len__(self) -> int:
        return len(self._sweeps)

    def create(self, definition: SweepIn, configs: list[CellConfig], settings: Settings) -> Sweep:
        with self._lock:
            if len(self._sweeps) >= settings.scale_max_sweeps:
                self._evict_locked(settings.scale_sweep_idle_seconds)
            if len(self._sweeps) >= settings.scale_max_sweeps:
                raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                                    f"this server holds its maximum of {settings.scale_max_sweeps} sweeps "
                                    "(NP_SCALE_MAX_SWEEPS); delete one you no longer use or retry later",
                                    headers={"Retry-After": "30"})
            code = new_code()
            while code in self._codes:
                code = new_code()
            sweep = Sweep(sessions.new_id(), code, definition, configs)
            self._sweeps[sweep.id] = sweep
            self._codes[code] = sweep.id
            return sweep

    def find(self, sid: str) -> Sweep | None:
        return self._sweeps.get(sid)

    def get(self, sid: str) -> Sweep:
        sweep = self._sweeps.get(sid)
        if sweep is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"no sweep {sid!r} on this server: it was deleted, dropped after being "
                                "unused (NP_SCALE_SWEEP_IDLE_SECONDS), or never existed; create a new one")
        sweep.touch()
        return sweep

    def by_code(self, code: str) -> Sweep | None:
        sid = self._codes.get(normalize_code(code))
        return self._sweeps.get(sid) if sid else None

    def delete(self, sid: str) -> None:
        sweep = self.get(sid)
        with self._lock:
            self._drop(sweep)

    def _drop(self, sweep: Sweep) -> None:
        sweep.server_runs = False
        self._sweeps.pop(sweep.id, None)
        self._codes.pop(sweep.code, None)

    def _evict_locked(self, idle_seconds: float) -> int:
        now = time.monotonic()
        stale = [s for s in self._sweeps.values() if not s.watchers and now - s.last_used > idle_seconds]
        for s in stale:
            self._drop(s)
        return len(stale)

    def evict_idle(self, idle_seconds: float) -> int:
        with self._lock:
            return self._evict_locked(idle_seconds)

    def all(self) -> list[Sweep]:
        return list(self._sweeps.values())

    def next_job(self) -> tuple[Sweep, SweepCell] | None:
        """A pending cell of the next sweep that runs on the server, sweeps taking turns."""
        sweeps = self.all()
        for i in range(len(sweeps)):
            sweep = sweeps[(self._turn + i) % len(sweeps)]
            cell = sweep.next_server_cell()
            if cell is not None:
                self._turn = (self._turn + i + 1) % max(len(sweeps), 1)
                return sweep, cell
        return None


class Trainers:
    """Threads that train the cells of sweeps running on this worker, one cell at a time each,
    and hand lapsed leases back every second. `throughput` is the measured training FLOPs per
    second (an average over recent cells), for the ETA."""

    def __init__(self, store: SweepStore, cache: CellCache, threads: int) -> None:
        self.store, self.cache = store, cache
        self.throughput: float | None = None
        self._wake = threading.Condition()
        self._stop = False
        self._threads = [threading.Thread(target=self._loop, name=f"scale-cells-{i}", daemon=True)
                         for i in range(max(1, threads))]
        for t in self._threads:
            t.start()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def close(self) -> None:
        self._stop = True
        self.wake()
        for t in self._threads:
            t.join(timeout=5)

    def _loop(self) -> None:
        last_expiry = 0.0
        while not self._stop:
            now = time.monotonic()
            if now - last_expiry >= 1.0:
                for sweep in self.store.all():
                    sweep.expire_leases(now)
                last_expiry = now
            job = self.store.next_job()
            if job is None:
                with self._wake:
                    self._wake.wait(timeout=1.0)
                continue
            self._train(*job)

    def _train(self, sweep: Sweep, cell: SweepCell) -> None:
        key = cell.config.key()
        known = self.cache.get(key)
        if known is not None:
            sweep.finish_server(cell, known, 0.0, "cache")
            return
        started = time.perf_counter()
        try:
            result = run_cell(cell.config)
        except Exception as exc:  # a fault in one cell must not stop the others
            log.exception("cell %d of sweep %s failed", cell.k, sweep.id)
            seconds = time.perf_counter() - started
            sweep.finish_server(cell, None, seconds, "server", f"training failed: {exc}")
            return
        seconds = time.perf_counter() - started
        self.cache.put(key, result)
        if seconds > 0:
            rate = cell.shape.flops / seconds
            self.throughput = rate if self.throughput is None else 0.8 * self.throughput + 0.2 * rate
        sweep.finish_server(cell, result, seconds, "server")


@dataclass
class ScaleState:
    """What the scale lab keeps per worker (app.state.scale)."""

    store: SweepStore
    cache: CellCache
    trainers: Trainers

    @classmethod
    def start(cls, settings: Settings) -> ScaleState:
        store, cache = SweepStore(), CellCache(settings.scale_cache_cells)
        return cls(store, cache, Trainers(store, cache, settings.scale_runner_threads))

    def compute(self, config: CellConfig) -> tuple[CellResult, str]:
        """A cell's result now: from the cache, or trained here (and cached)."""
        known = self.cache.get(config.key())
        if known is not None:
            return known, "cache"
        result = run_cell(config)
        self.cache.put(config.key(), result)
        return result, "server"
