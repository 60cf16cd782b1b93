"""The page tells the truth about its connection: reconnecting, the server restarted and the run
started again from the link, the server full. Each test runs its own server (tests.liveserver),
which it stops, restarts or fills."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.labpage import counter, wait_for_lab
from tests.liveserver import LiveServer, free_port


@pytest.fixture
def tab(browser, request):
    """A 1280×720 page that fails the test on a script error (not on the network errors a
    server going away causes); a screenshot is saved at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"


def banner(page):
    return page.locator("#np-connection")


def wait_state(page, state: str, timeout: float = 20_000) -> None:
    page.wait_for_selector(f"html[data-connection='{state}']", state="attached", timeout=timeout)


def test_after_a_restart_the_mlp_page_gets_its_run_back_from_the_link(tab):
    port = free_port()
    query = "dataset=xor&hidden=3&lr=0.1&seed=7"
    server = LiveServer(port=port)
    try:
        tab.goto(f"{server.base}/labs/mlp?{query}")
        wait_for_lab(tab)
        tab.wait_for_selector("html[data-lab-ready]", state="attached")
        tab.click("#mlp-play")
        expect(tab.locator("#mlp-play")).to_have_attribute("aria-label", "Pause")
        start = time.monotonic()
        while counter(tab, "#mlp-epoch") < 5 and time.monotonic() - start < 20:
            time.sleep(0.1)

        server.kill()
        wait_state(tab, "reconnecting")
        expect(banner(tab)).to_contain_text("reconnecting")
        expect(tab.locator("#mlp-play")).to_have_attribute("aria-label", "Play")  # not stuck on Pause
        tab.screenshot(path=str(ARTIFACTS / "connection-reconnecting.png"))

        server = LiveServer(port=port)
        wait_state(tab, "recreated", timeout=30_000)
        expect(banner(tab)).to_contain_text("The server restarted")
        expect(banner(tab)).to_contain_text("rebuilt at the same step and plays on")  # from its journal
        tab.screenshot(path=str(ARTIFACTS / "connection-recreated.png"))
        expect(tab.locator("#mlp-play")).to_have_attribute("aria-label", "Pause")
        before = counter(tab, "#mlp-epoch")
        deadline = time.monotonic() + 20
        while counter(tab, "#mlp-epoch") <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert counter(tab, "#mlp-epoch") > before  # the new run plays
        assert tab.evaluate("location.search").count("dataset=xor") == 1  # the same link
        assert httpx.get(f"{server.base}/healthz", trust_env=False).json()["sessions"] == 1
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared():
    with LiveServer() as server:
        yield server


@pytest.mark.parametrize("lab", ["perceptron", "backprop", "optimizers", "convolution", "convnet", "depth",
                                 "selfsupervised"])
def test_every_lab_starts_its_run_again_when_its_session_is_gone(tab, shared, lab):
    sockets: list[str] = []
    tab.on("websocket", lambda ws: sockets.append(ws.url))
    tab.goto(f"{shared.base}/labs/{lab}")
    wait_for_lab(tab)
    deadline = time.monotonic() + 10
    while not sockets and time.monotonic() < deadline:
        tab.wait_for_timeout(100)
    sid = sockets[0].rsplit("/", 2)[-2]
    # The server loses the session (as a restart or an idle eviction would): the page is told.
    assert httpx.delete(f"{shared.base}/api/v1/{lab}/sessions/{sid}", trust_env=False).status_code == 204
    wait_state(tab, "recreated")
    expect(banner(tab)).to_contain_text("The server no longer has this run")
    # from the stream's journal where the lab keeps one, else from the link
    expect(banner(tab)).to_contain_text(re.compile("rebuilt at the same step|started again from the link"))
    assert len(sockets) == 2 and sid not in sockets[1]  # a new session, on its own stream
    new = sockets[1].rsplit("/", 2)[-2]
    assert httpx.get(f"{shared.base}/api/v1/{lab}/sessions/{new}", trust_env=False).status_code == 200


def test_a_full_server_says_so_and_the_page_gets_in_when_there_is_room(tab):
    with LiveServer(settings={"max_sessions": 1}) as server:
        with httpx.Client(base_url=server.base, trust_env=False) as c:
            sid = c.post("/api/v1/perceptron/sessions", json={}).json()["id"]
        from websockets.sync.client import connect

        with connect(f"{server.ws_base}/api/v1/perceptron/sessions/{sid}/stream", proxy=None) as ws:
            json.loads(ws.recv(timeout=10))  # watched: nothing may evict it
            tab.goto(f"{server.base}/labs/perceptron")
            wait_state(tab, "full")
            expect(banner(tab)).to_contain_text("The server is full")
            expect(banner(tab)).to_contain_text("Trying again in")
            tab.screenshot(path=str(ARTIFACTS / "connection-full.png"))
        httpx.delete(f"{server.base}/api/v1/perceptron/sessions/{sid}", trust_env=False)
        tab.click("#np-connection button")  # "Retry now"
        wait_for_lab(tab)
        tab.wait_for_selector("html[data-connection='ok']", state="attached")
        expect(banner(tab)).to_be_hidden()
