"""Sharing the work threads: how busy a client is counts how long its work ran, not how long it
waited for a thread, so a full hall's pages stay "short" work however long they queue."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from app.limits import Clients
from app.settings import Settings
from app.work import SHORT, Work, run_chunked


def busy_for(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def test_a_page_that_waited_long_for_the_thread_but_ran_briefly_is_short_work():
    async def scenario() -> tuple[float, float, bool, bool]:
        work = Work(Clients(Settings()), threads=1)
        try:
            heavy = asyncio.create_task(work.run_timed("heavy", busy_for, 3 * SHORT))  # the only thread
            await asyncio.sleep(0.01)
            page = asyncio.create_task(work.run_timed("page", busy_for, 0.002))  # queues behind it
            await asyncio.sleep(2 * SHORT)
            yields_while_page_waits = work.should_yield("heavy")
            (_, heavy_ran), (_, page_ran) = await asyncio.gather(heavy, page)
            return page_ran, heavy_ran, yields_while_page_waits, work.shares("heavy")
        finally:
            work.close()

    page_ran, heavy_ran, yielded, _ = asyncio.run(scenario())
    assert page_ran < SHORT / 2  # its own 2 ms, not the ~150 ms it waited
    assert heavy_ran >= 3 * SHORT
    assert yielded  # the heavy client's work ran past SHORT while the page's short work waited


def test_a_long_runner_shares_with_pages_that_played_lately_even_after_queueing():
    async def scenario() -> bool:
        work = Work(Clients(Settings()), threads=1)
        try:
            heavy = asyncio.create_task(work.run("heavy", busy_for, 2 * SHORT))
            await asyncio.sleep(0.01)
            await work.run("page", busy_for, 0.002)  # waited ~100 ms, ran 2 ms
            await heavy
            with work.wanting("heavy"), work.running("heavy"):
                time.sleep(1.2 * SHORT)
                return work.shares("heavy")
        finally:
            work.close()

    assert asyncio.run(scenario())


def test_each_frame_of_a_page_that_is_always_behind_is_short_work_of_its_own():
    # A page behind its frame rate asks for the next frame as soon as one is sent: it never
    # stops wanting for GAP, so without `fresh` its frames would add up to long work.
    async def scenario(fresh: bool) -> bool:
        work = Work(Clients(Settings()), threads=1)
        try:
            with work.wanting("other"):  # another page waits for its turn meanwhile
                for _ in range(25):  # 25 frames of 3 ms: 75 ms in all, past SHORT
                    await work.run("page", busy_for, 0.003, fresh=fresh)

                def last_frame() -> bool:
                    time.sleep(0.003)
                    return work.should_yield("page")

                return await work.run("page", last_frame, fresh=fresh)
        finally:
            work.close()

    assert asyncio.run(scenario(fresh=False))  # counted as one spell: long, it would step aside
    assert not asyncio.run(scenario(fresh=True))  # each frame its own spell: short


def test_a_fresh_frame_does_not_wipe_the_clients_other_long_work():
    # A student who plays one session while another of theirs trains in slices: the training
    # stays long work (it steps aside for others), however many frames the page asks for.
    async def scenario() -> bool:
        work = Work(Clients(Settings()), threads=1)
        try:
            with work.wanting("other"), work.wanting("student"):  # the training holds on between slices
                await work.run("student", busy_for, 1.5 * SHORT)  # its first slice
                with work.wanting("student", fresh=True):  # the student's page asks for a frame
                    pass

                def next_slice() -> bool:
                    time.sleep(0.002)
                    return work.should_yield("student")

                return await work.run("student", next_slice)
        finally:
            work.close()

    assert asyncio.run(scenario())


def test_run_chunked_remembers_its_chunk_size_in_the_session():
    calls: list[int] = []

    def step(k: int) -> int:
        calls.append(k)
        return k

    session = SimpleNamespace(chunk=1)
    assert run_chunked(step, 25, pace=session) == (25, "done")
    first = list(calls)
    calls.clear()
    assert run_chunked(step, 25, pace=session) == (25, "done")
    assert first[:4] == [1, 2, 4, 8] and len(calls) < len(first)
    assert session.chunk >= 16


def test_a_changed_run_finds_its_own_chunk_size():
    # A chunk the small network grew to must not be the first call of a large one after a change.
    import threading

    from app.streaming import _advance_slice

    calls: list[int] = []
    runner = SimpleNamespace(version=3, done=False, advance=lambda k: calls.append(k) or k)
    session = SimpleNamespace(runner=runner, lock=threading.RLock(), playing=True, chunk=256,
                              chunk_version=3)
    _advance_slice(session, 300, "page", False)
    assert calls[0] == 256  # the same run: where the last frame left off
    runner.version, calls[:] = 4, []  # a change (another network)
    _advance_slice(session, 300, "page", False)
    assert calls[0] == 1
