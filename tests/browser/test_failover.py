"""A lab page whose worker process dies mid-play rebuilds its run on the other worker: the
same network at the same step (the frames before and after compared), then it plays on.
Runs the multi-process server (`make serve`'s launcher, two workers behind nginx)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import shot
from tests.browser.labpage import counter, lab_call, wait_for_change, wait_for_lab
from tests.hall import Hall, needs_nginx
from tests.streams import decode_binary


@pytest.fixture
def hall(tmp_path: Path):
    server = Hall(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@needs_nginx
def test_a_page_rebuilds_its_run_when_its_worker_dies_mid_play(browser, hall: Hall) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))  # 502s of the dead worker are expected
    frames: dict[str, list[dict]] = {}  # socket URL → frames received, in order

    def watch(ws) -> None:
        got = frames.setdefault(ws.url, [])

        def on_frame(payload) -> None:
            if isinstance(payload, bytes):  # a binary frame (the MLP page asks for them)
                msg = decode_binary(payload)
            elif payload.startswith('{"type":"frame"'):
                msg = json.loads(payload)
            else:
                return
            got.append({k: msg.get(k) for k in ("units", "step", "weights")})

        ws.on("framereceived", on_frame)

    page.on("websocket", watch)
    try:
        page.goto(f"{hall.url}/labs/mlp?dataset=xor&hidden=4,2&speed=1")
        wait_for_lab(page)
        first = next(iter(frames))
        sid = re.search(r"/sessions/([^/]+)/stream", first).group(1)
        lab_call(page, "toggle")  # play
        wait_for_change(page, "#mlp-epoch", counter(page, "#mlp-epoch"))
        epoch_before = counter(page, "#mlp-epoch")
        os.kill(hall.pid(sid[:2]), signal.SIGKILL)  # the worker holding the page's session dies

        def rebuilt_frames(enough) -> list[dict]:  # wait for the rebuilt run's socket to send enough
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = next((got for url, got in list(frames.items()) if sid not in url), [])
                if got and enough(got):
                    return got
                page.wait_for_timeout(200)
            pytest.fail(f"the run was not rebuilt in 60 s: {list(frames)}")

        rebuilt_frames(lambda got: True)  # a new socket: the old one has closed, its frames are in
        last = frames[first][-1]  # the last frame the page showed from the dead worker
        got = rebuilt_frames(lambda got: got[-1]["units"] >= last["units"])
        rebuilt = next(url for url in frames if sid not in url)
        new_sid = re.search(r"/sessions/([^/]+)/stream", rebuilt).group(1)
        assert new_sid[:2] != sid[:2]  # on the other worker
        replayed = next(f for f in got if f["units"] == last["units"])
        assert replayed["step"] == last["step"] and replayed["weights"] == last["weights"]
        page.wait_for_selector("#np-connection:not([hidden])")
        assert "rebuilt at the same step" in page.locator("#np-connection").inner_text()
        # it plays on from there
        wait_for_change(page, "#mlp-epoch", epoch_before, timeout=30)
        assert counter(page, "#mlp-epoch") > epoch_before
        assert frames[rebuilt][-1]["units"] > last["units"]
        shot(page, "failover-rebuilt")
    finally:
        context.close()
    assert not js_errors, js_errors


def test_past_capacity_the_page_says_the_server_is_full_and_gets_in_when_there_is_room(browser) -> None:
    from tests.liveserver import LiveServer

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        with LiveServer(settings={"capacity": 1}) as server:
            other = httpx.post(f"{server.base}/api/v1/mlp/sessions", json={}, trust_env=False).json()["id"]
            page.goto(f"{server.base}/labs/mlp")
            page.wait_for_selector("html[data-connection='full']", state="attached", timeout=20_000)
            text = page.locator("#np-connection").inner_text()
            assert "The server is full: 1 students are playing" in text and "Trying again in" in text
            shot(page, "failover-server-full")
            httpx.delete(f"{server.base}/api/v1/mlp/sessions/{other}", trust_env=False)
            page.click("#np-connection button")  # "Retry now"
            wait_for_lab(page)
    finally:
        context.close()
