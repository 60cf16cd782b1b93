"""Sweeps and class experiments: a grid of cells owned by the worker that created it.

A sweep lives in this process's `SweepStore` (app/labs/scale/store.py: in memory, capped,
dropped when idle, like a session) and is reached only through URLs that contain its id,
`/api/v1/scale/sweeps/{id}/…`, so a reverse proxy that routes by id sends everything about
it (results students post from anywhere included) to its owner. Ids come from
`app.sessions.new_id()`; join codes start with the same `worker_prefix()`, so `/join/{code}`
is routable the same way.

A cell is pending, then running (this worker trains it), or leased (a student trains it in
their own session and posts the result), then done. A lease lapses after
NP_SCALE_LEASE_SECONDS without renewal: the cell goes back to pending and the next student
who asks gets it (a result that arrives late from the first student still counts while nobody
else has finished it). Results this worker computed are cached by (config, seed), so a
re-opened page or a re-run preset fills at once; results students post are checked against
the cell (parameters, data, steps, compute, and the cached numbers when there are some) but
never enter the cache.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, status

from app import encoding
from app.labs.scale.session import SweepIn, result_out, shape_out
from app.settings import Settings
from engine.scale_cells import CellConfig, CellResult, CellShape, shape
from engine.sweeps import aggregate, double_descent, scaling_fits

RATE_WINDOW = 120.0  # seconds of posted results the class ETA looks at


class CellCache:
    """Results this worker computed, by cell key (config and seed), least recently used first out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, CellResult] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> CellResult | None:
        with self._lock:
            result = self._items.get(key)
            if result is not None:
                self._items.move_to_end(key)
            return result

    def put(self, key: str, result: CellResult) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(eq=False)
class SweepCell:
    k: int
    config: CellConfig
    shape: CellShape
    status: str = "pending"  # pending | running | leased | done | failed
    result: CellResult | None = None
    source: str = ""  # server | cache | student
    student: int | None = None  # who trained it (or holds its lease)
    lease: str | None = None
    expires: float = 0.0
    holders: dict[str, int] = field(default_factory=dict)  # every lease token given → student number
    seconds: float | None = None  # server time spent training it
    handed_out: int = 0
    version: int = 0
    error: str = ""

    def public(self, now: float) -> dict[str, Any]:
        c = self.config
        return {
            "k": self.k, "width": c.width, "depth": c.depth, "train_size": c.train_size, "seed": c.seed,
            "steps": c.steps, **shape_out(self.shape), "status": self.status, "source": self.source,
            "student": self.student, "seconds": self.seconds, "handed_out": self.handed_out,
            "lease_left": round(max(0.0, self.expires - now), 1) if self.status == "leased" else None,
            "error": self.error or None, "result": result_out(self.result),
        }


@dataclass(eq=False)
class Student:
    token: str
    number: int
    joined: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    done: int = 0


class Watcher:
    """One open stream of a sweep: `event` is set (thread-safely) whenever the sweep changed."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()

    def poke(self) -> None:
        with contextlib.suppress(RuntimeError):  # the page's loop has closed
            self.loop.call_soon_threadsafe(self.event.set)


class Sweep:
    def __init__(self, sid: str, code: str, definition: SweepIn, configs: list[CellConfig]) -> None:
        self.id, self.code, self.definition = sid, code, definition
        self.mode = definition.mode
        self.lock = threading.RLock()
        self.cells = [SweepCell(k, c, shape(c)) for k, c in enumerate(configs)]
        self.order = definition.grid().spread_order()
        self.version = 0
        self.server_runs = False  # this worker trains pending cells
        self.server_left: int | None = None  # cells it still trains before pausing (None: all)
        self.students: dict[str, Student] = {}
        self.watchers: set[Watcher] = set()
        self.created = self.last_used = time.monotonic()
        self.reassigned = 0
        self.posted: collections.deque[float] = collections.deque(maxlen=2000)
        self._summary: tuple[int, dict[str, Any]] | None = None

    # ----- bookkeeping -------------------------------------------------------------------
    def touch(self) -> None:
        self.last_used = time.monotonic()

    def _changed(self, *cells: SweepCell) -> None:
        self.version += 1
        for cell in cells:
            cell.version = self.version
        for w in list(self.watchers):
            w.poke()

    def fill_from(self, cache: CellCache) -> int:
        """Cells whose result this worker has computed before are done at once."""
        filled = []
        with self.lock:
            for cell in self.cells:
                known = cache.get(cell.config.key())
                if known is not None and cell.status == "pending":
                    cell.status, cell.result, cell.source = "done", known, "cache"
                    filled.append(cell)
            if filled:
                self._changed(*filled)
        return len(filled)

    def expire_leases(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        lapsed = []
        with self.lock:
            for cell in self.cells:
                if cell.status == "leased" and cell.expires <= now:
                    cell.status, cell.lease, cell.student = "pending", None, None
                    lapsed.append(cell)
            if lapsed:
                self.reassigned += len(lapsed)
                self._changed(*lapsed)
        return len(lapsed)

    # ----- this worker's training ------------------------------------------------------------
    def run(self, cells: int | None) -> None:
        with self.lock:
            self.server_runs = any(c.status == "pending" for c in self.cells)
            self.server_left = cells
            self._changed()

    def pause(self) -> None:
        with self.lock:
            self.server_runs = False
            self._changed()

    def next_server_cell(self) -> SweepCell | None:
        """The next pending cell this worker should train (marked running), if it runs."""
        with self.lock:
            if not self.server_runs or self.server_left == 0:
                return None
            for k in self.order:
                cell = self.cells[k]
                if cell.status == "pending":
                    cell.status = "running"
                    if self.server_left is not None:
                        self.server_left -= 1
                    self._changed(cell)
                    return cell
            return None

    def finish_server(self, cell: SweepCell, result: CellResult | None, seconds: float, source: str,
                      error: str = "") -> None:
        with self.lock:
            if cell.status == "running":
                if result is None:
                    cell.status, cell.error = "failed", error
                else:
                    cell.status, cell.result, cell.source, cell.seconds = "done", result, source, seconds
            if self.server_left == 0 or not any(c.status in ("pending", "running") for c in self.cells):
                self.server_runs = False  # nothing left to train here: the run has ended
            self._changed(cell)

    # ----- students --------------------------------------------------------------------------
    def join(self, token: str | None, count: int, settings: Settings) -> tuple[Student, list[SweepCell]]:
        now = time.monotonic()
        self.expire_leases(now)
        with self.lock:
            if self.mode != "class":
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    "this sweep runs on the server; students join a class experiment "
                                    "(create it with \"mode\": \"class\")")
            student = self.students.get(token) if token else None
            if student is None:
                if len(self.students) >= settings.scale_max_students:
                    raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                                        f"this class experiment has its {settings.scale_max_students} "
                                        "students (NP_SCALE_MAX_STUDENTS)")
                student = Student(secrets.token_urlsafe(12), len(self.students) + 1)
                self.students[student.token] = student
            student.last_seen = now
            held = [c for c in self.cells
                    if c.status == "leased" and c.holders.get(c.lease or "") == student.number]
            for cell in held:
                cell.expires = now + settings.scale_lease_seconds
            want = min(count, settings.scale_cells_per_join) - len(held)
            taken = []
            for k in self.order:
                if want <= 0:
                    break
                cell = self.cells[k]
                if cell.status == "pending":
                    cell.lease = secrets.token_urlsafe(12)
                    cell.holders[cell.lease] = student.number
                    cell.status, cell.student = "leased", student.number
                    cell.expires = now + settings.scale_lease_seconds
                    cell.handed_out += 1
                    taken.append(cell)
                    want -= 1
            self.touch()
            self._changed(*held, *taken)
            return student, held + taken

    def renew(self, k: int, lease: str, settings: Settings) -> float:
        now = time.monotonic()
        self.expire_leases(now)
        with self.lock:
            cell = self._cell(k)
            if cell.status != "leased" or cell.lease != lease:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    f"cell {k} is no longer leased to you ({cell.status}); "
                                    "post its result if you finished it, or join again for another cell")
            cell.expires = now + settings.scale_lease_seconds
            student = self._student_of(cell.holders[lease])
            if student is not None:
                student.last_seen = now
            self.touch()
            self._changed(cell)
            return settings.scale_lease_seconds

    def post(self, k: int, lease: str, result: CellResult, cache: CellCache) -> dict[str, Any]:
        self.expire_leases()
        with self.lock:
            cell = self._cell(k)
            number = cell.holders.get(lease)
            if number is None:
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    f"that lease was never given for cell {k}: join to get a cell")
            if cell.status == "done":
                who = f"student {cell.student}" if cell.source == "student" else "the server"
                return {"accepted": False, "reason": f"cell {k} already has a result (from {who})"}
            if cell.status == "leased" and cell.lease != lease:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    f"cell {k} went to another student after your lease lapsed")
            check_result(cell, result, cache)
            cell.status, cell.result, cell.source = "done", result, "student"
            cell.student, cell.lease = number, None
            student = self._student_of(number)
            if student is not None:
                student.done += 1
                student.last_seen = time.monotonic()
            self.posted.append(time.monotonic())
            self.touch()
            self._changed(cell)
            return {"accepted": True, "cell": cell.public(time.monotonic())}

    def _cell(self, k: int) -> SweepCell:
        if not 0 <= k < len(self.cells):
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"sweep {self.id} has cells 0 … {len(self.cells) - 1}, not {k}")
        return self.cells[k]

    def _student_of(self, number: int) -> Student | None:
        return next((s for s in self.students.values() if s.number == number), None)

    # ----- reading ---------------------------------------------------------------------------
    def progress(self, throughput: float | None) -> dict[str, Any]:
        now = time.monotonic()
        counts = collections.Counter(c.status for c in self.cells)
        served = [c.seconds for c in self.cells if c.source == "server" and c.seconds is not None]
        left = [c for c in self.cells if c.status in ("pending", "running", "leased")]
        eta = None
        if self.server_runs and throughput:
            queued = [c for c in left if c.status != "leased"]
            if self.server_left is not None:
                queued = queued[: self.server_left + counts["running"]]
            eta = sum(c.shape.flops for c in queued) / throughput
        recent = [t for t in self.posted if now - t <= RATE_WINDOW]
        if self.mode == "class" and len(recent) >= 2:
            rate = len(recent) / max(now - recent[0], 1.0)
            eta = max(eta or 0.0, len(left) / rate)
        return {
            "total": len(self.cells), "done": counts["done"], "running": counts["running"],
            "leased": counts["leased"], "pending": counts["pending"], "failed": counts["failed"],
            "cached": sum(1 for c in self.cells if c.source == "cache"),
            "from_students": sum(1 for c in self.cells if c.source == "student"),
            "reassigned": self.reassigned, "server_runs": self.server_runs,
            "seconds_per_cell": sum(served) / len(served) if served else None,
            "eta_seconds": None if eta is None or not left else round(eta, 1),
        }

    def students_out(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "joined": len(self.students),
            "contributed": sum(1 for s in self.students.values() if s.done),
            "training": len({c.student for c in self.cells if c.status == "leased"}),
            "active": sum(1 for s in self.students.values() if now - s.last_seen < 120),
        }

    def summary(self, throughput: float | None) -> dict[str, Any]:
        """Progress, students, seed-averaged points, power-law fits, the double-descent peak."""
        with self.lock:
            cached = self._summary
            results = [(c.config, c.result) for c in self.cells if c.status == "done" and c.result]
            progress, students, version = self.progress(throughput), self.students_out(), self.version
        if cached is None or cached[0] != version:
            points = aggregate(results)
            analysis = {
                "points": [p.to_dict() for p in points],
                "fits": {m: scaling_fits(results, m) for m in ("test_error", "test_loss")},
                "double_descent": (double_descent(points)
                                   if self.definition.model == "random_features" else None),
            }
            self._summary = cached = (version, encoding.finite(analysis))
        return {"version": version, "progress": progress, "students": students, **cached[1]}

    def changed_cells(self, since: int) -> tuple[list[dict[str, Any]], int]:
        """Cells changed after version `since`, and the version they bring the page to."""
        now = time.monotonic()
        with self.lock:
            return [c.public(now) for c in self.cells if c.version > since], self.version

    def state(self, throughput: float | None, join_url: str) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            cells, version = [c.public(now) for c in self.cells], self.version
        return {
            "id": self.id, "code": self.code, "mode": self.mode, "join_url": join_url,
            "qr": f"/api/v1/scale/sweeps/{self.id}/qr.svg",
            "definition": self.definition.model_dump(),
            "cells": cells, **self.summary(throughput), "version": version,
        }


def check_result(cell: SweepCell, result: CellResult, cache: CellCache) -> None:
    """422 unless the result is one of this cell's: its network's parameters, its training set,
    its steps and compute, and (when this worker computed the cell before) its numbers."""
    c, s = cell.config, cell.shape
    expected_steps = 0 if c.model == "random_features" else c.steps
    problems = []
    if result.parameters != s.parameters:
        problems.append(f"parameters {result.parameters}, the cell's network has {s.parameters}")
    if result.train_size != c.train_size:
        problems.append(f"train_size {result.train_size}, the cell trains on {c.train_size}")
    if result.steps != expected_steps and not result.diverged:
        problems.append(f"steps {result.steps}, the cell's budget is {expected_steps}")
    if not result.diverged and not math.isclose(result.flops, s.flops, rel_tol=1e-6):
        problems.append(f"flops {result.flops:.6g}, the cell's budget is {s.flops:.6g}")
    known = cache.get(c.key())
    if known is not None and not problems:
        for name in ("test_error", "train_error"):
            if not math.isclose(getattr(known, name), getattr(result, name), rel_tol=1e-9, abs_tol=1e-12):
                problems.append(f"{name} {getattr(result, name)} differs from this cell's known "
                                f"{getattr(known, name)} (the same config and seed give the same run)")
    if problems:
        raise HTTPException(422, f"not a result of cell {cell.k}: " + "; ".join(problems))
