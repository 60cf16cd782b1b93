"""The scale lab in Chromium: a lecturer opens a class experiment, three students on phones
(separate browser contexts) join it by its code, each trains cells in their own session, and
their results land on the lecturer's plot; a student who leaves has their cell reassigned;
the double-descent story plays in a 960×540 and a 640×360 embed with the whole plot in sight
(every lab's embeds and phones: tests/browser/test_layout.py)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.conftest import shot
from tests.browser.labpage import lab_call, wait_for_lab
from tests.liveserver import LiveServer

# Six small cells: two widths × three training-set sizes, 40 steps each (a few seconds a cell
# when watched).
GRID = "widths=8,16&train_sizes=50,100,200&budget=40&seeds=3&axis=parameters"
PHONE = {"width": 390, "height": 844}


def sweep_of(page) -> dict:
    return lab_call(page, "sweep")


def wait_until(check, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def start_class(page, server: str, query: str) -> str:
    page.goto(f"{server}/labs/scale?{query}")
    wait_for_lab(page)
    page.click("#sc-class-start")
    page.locator("#sc-class-on").wait_for(state="visible")
    code = page.inner_text("#sc-code").strip()
    assert len(code) == 5 and code == sweep_of(page)["code"]
    page.wait_for_function("() => document.querySelector('#sc-qr').naturalWidth > 0")
    return code


def open_student(browser, server: str, code: str):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/join/{code.lower()}")  # typed in lower case: the server finds it
    return context, page, errors


def test_class_experiment_pools_three_students(page, server, browser):
    page.set_viewport_size({"width": 1440, "height": 900})
    code = start_class(page, server, GRID)
    assert "pooled from 0 students" not in page.inner_text("main")  # drawn on the canvas, not in text
    students = [open_student(browser, server, code) for _ in range(3)]
    try:
        numbers = set()
        for _, pg, _ in students:
            pg.locator("#sj-who").filter(has_text="student #").wait_for(timeout=20_000)
            numbers.add(pg.inner_text("#sj-who"))
        assert numbers == {"You are student #1.", "You are student #2.", "You are student #3."}
        # each trains, sends, takes another: all six cells arrive on the lecturer's page
        wait_until(lambda: sweep_of(page)["progress"]["done"] == 6, 90, "six cells from the students")
        s = sweep_of(page)
        assert s["progress"]["from_students"] == 6 and s["students"]["contributed"] == 3
        page.locator("#sc-students").filter(has_text="3 contributed").wait_for()
        wait_until(lambda: lab_call(page, "plotted") == 6, 10, "six points on the lecturer's plot")
        page.locator("#sc-story").filter(has_text="Test error").wait_for()
        assert page.locator("#sc-map td.done").count() == 6
        for _, pg, errors in students:
            pg.locator("#sj-sent").filter(has_text="to the class plot").wait_for(timeout=20_000)
            pg.locator("#sj-msg").filter(has_text="The experiment is complete").wait_for(timeout=20_000)
            wait_until(lambda pg=pg: "6 of 6 cells done" in pg.inner_text("#sj-class-note"), 20,
                       "the class plot on the student's page")
            assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert not errors, errors
        shot(students[0][1], "scale-student-phone")
        shot(page, "scale-class-lecturer-1440")

        # export: every cell as CSV, the plot as PNG
        csv_text = page.request.get(server + page.get_attribute("#sc-csv", "href")).text()
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        assert len(rows) == 6 and {r["source"] for r in rows} == {"student"}
        assert {r["student"] for r in rows} == {"1", "2", "3"}
        with page.expect_download() as download:
            page.click('.lab-toolbar [data-action="export-png"]')
        path = download.value.path()
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        for context, _, _ in students:
            context.close()


# ---- a student leaves: their cell goes to another ------------------------------------------

@pytest.fixture(scope="module")
def short_lease_server() -> Iterator[str]:
    """A server of its own whose leases lapse after 2 s."""
    with LiveServer({"scale_lease_seconds": 2}) as live:
        yield live.base


def test_a_student_who_leaves_has_their_cell_reassigned(page, short_lease_server, browser):
    server = short_lease_server
    code = start_class(page, server, "widths=8&train_sizes=50,100&budget=600&seeds=4&axis=train_size")
    leaver, lp, _ = open_student(browser, server, code)
    lp.locator("#sj-cell").filter(has_text="600 steps").wait_for(timeout=20_000)
    left_k = [c for c in httpx.get(f"{server}/api/v1/scale/sweeps/{sweep_of(page)['id']}", trust_env=False)
              .json()["cells"] if c["status"] == "leased"]
    assert len(left_k) == 1 and left_k[0]["student"] == 1
    leaver.close()  # mid-training: no more lease renewals, no result
    stayer, sp, errors = open_student(browser, server, code)
    try:
        wait_until(lambda: sweep_of(page)["progress"]["done"] == 2, 60, "both cells, one of them reassigned")
        s = sweep_of(page)
        assert s["progress"]["reassigned"] >= 1 and s["progress"]["from_students"] == 2
        assert s["students"] == {**s["students"], "joined": 2, "contributed": 1}
        cells = httpx.get(f"{server}/api/v1/scale/sweeps/{s['id']}", trust_env=False).json()["cells"]
        assert {c["student"] for c in cells} == {2}
        assert next(c for c in cells if c["k"] == left_k[0]["k"])["handed_out"] == 2
        assert not errors, errors
        shot(sp, "scale-student-after-reassignment")
    finally:
        stayer.close()


# ---- embeds and phones ---------------------------------------------------------------------

@pytest.mark.parametrize("size", [(960, 540), (640, 360)])
def test_embed_shows_the_whole_plot_without_scrolling(page, server, size):
    w, h = size
    page.set_viewport_size({"width": w, "height": h})
    page.goto(f"{server}/embed/scale?preset=scale-double-descent&present=1")
    wait_for_lab(page)
    lab_call(page, "toggle")
    page.locator("#sc-story").filter(has_text="Peak at the interpolation threshold").wait_for(timeout=60_000)
    box = page.locator("#sc-plot").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= w and box["y"] + box["height"] <= h
    assert box["width"] >= w * 0.5 and box["height"] >= h * 0.6, box
    scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert scroll[0] <= w and scroll[1] <= h, f"the document scrolls: {scroll} in {size}"
    if w == 960:
        font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#sc-story')).fontSize)")
        assert font >= 14
    shot(page, f"scale-embed-{w}x{h}")
