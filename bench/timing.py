"""Timing shared by the benches: calls per second, best of interleaved rounds."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], object], seconds: float = 0.4) -> float:
    """Calls per second of fn over about `seconds` (after one warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def best_rates(*fns: Callable[[], object], rounds: int = 5, seconds: float = 0.4) -> list[float]:
    """The best of `rounds` interleaved measurements of each fn: load on the machine then hits
    every side alike instead of whichever ran during it."""
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = max(best[i], rate(fn, seconds))
    return best
