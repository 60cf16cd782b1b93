"""The self-supervised lab in Chromium: press play and the loss falls while the positive pairs of
the similarity matrix stand out from the rest (frame numbers and canvas pixels); the probe table
fills with contrastive above random; a click on the held-out picture shows neighbours, a click
on the matrix chooses a row; the picture fits embeds and phones."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import shot
from tests.browser.labpage import lab_call, wait_for_lab

# Blueness (B − R) of the matrix cells, mean over the positive pairs and over the other pairs,
# read from the canvas at each cell's centre.
MATRIX_PIXELS = """async () => {
  const { matrixLayout } = await import("/static/js/selfsupervised/draw.js");
  const lab = (await import("/static/js/shell.js")).currentLab();
  const c = document.getElementById("ssl-matrix");
  const n2 = 2 * lab.snapshot().n, n = n2 / 2;
  const L = matrixLayout(c, n2), dpr = c.width / c.clientWidth;
  const img = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let pos = 0, neg = 0, np = 0, nn = 0;
  for (let i = 0; i < n2; i++) for (let j = 0; j < n2; j++) {
    if (i === j) continue;
    const x = Math.round((L.left + (j + 0.5) * L.cell) * dpr);
    const y = Math.round((L.top + (i + 0.5) * L.cell) * dpr);
    const k = (y * c.width + x) * 4, blue = img[k + 2] - img[k];
    if (j === (i + n) % n2) { pos += blue; np++; } else { neg += blue; nn++; }
  }
  return [pos / np, neg / nn];
}"""


def snapshot(page):
    return lab_call(page, "snapshot")


def wait_for_step(page, at_least: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = snapshot(page)
        if s and s["step"] >= at_least:
            return s
        time.sleep(0.25)
    raise AssertionError(f"the lab did not reach step {at_least} in {timeout} s: {snapshot(page)}")


def percent(text: str) -> float:
    match = re.search(r"(\d+(\.\d+)?) %", text)
    assert match, f"no percentage in {text!r}"
    return float(match.group(1))


def test_play_the_loss_falls_positives_stand_out_and_the_probe_fills(page, server):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/labs/selfsupervised?batch_size=32&speed=10")
    wait_for_lab(page)
    start = snapshot(page)
    assert start["step"] == 0 and start["n"] == 32
    assert start["positive"] - start["negative"] < 0.1  # untrained: every pair looks alike
    pos0, neg0 = page.evaluate(MATRIX_PIXELS)
    assert pos0 - neg0 < 40
    assert "All pairs look alike" in page.inner_text("#ssl-sims")
    shot(page, "selfsupervised-start")

    page.click("#ssl-play")
    wait_for_step(page, 220, timeout=150)
    page.click("#ssl-play")  # pause
    page.wait_for_function("() => !document.getElementById('ssl-play').classList.contains('playing')")
    time.sleep(0.5)
    end = snapshot(page)
    assert end["loss"] < start["loss"] - 0.4, (start, end)
    assert end["positive"] - end["negative"] > start["positive"] - start["negative"] + 0.25
    pos1, neg1 = page.evaluate(MATRIX_PIXELS)
    # the outlined positives stay blue while the other pairs fade: the diagonal stands out
    assert pos1 - neg1 > (pos0 - neg0) + 40, ((pos0, neg0), (pos1, neg1))
    assert re.search(r"Positives (begin to )?stand out", page.inner_text("#ssl-sims"))
    assert float(page.inner_text("#ssl-loss")) < start["loss"] - 0.4

    # the probe table fills, contrastive above random in every column
    page.click("#ssl-probe-run")
    table = page.locator("#ssl-probe-table")
    # contrastive and random fill first (a probe each); the supervised row trains encoders after
    cells = "#ssl-probe-table tbody tr:not([data-row=supervised]) td"
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(td => /%/.test(td.textContent))",
                           arg=cells, timeout=60_000)
    rows = {r: [percent(td) for td in table.locator(f'tr[data-row="{r}"] td').all_inner_texts()]
            for r in ("contrastive", "random")}
    assert all(c > r for c, r in zip(rows["contrastive"], rows["random"], strict=True)), rows
    assert rows["contrastive"][0] > rows["random"][0] + 10, rows  # 1 % of the labels
    assert "Contrastive beats random by" in page.inner_text("#ssl-probe-note")
    assert re.search(r"computing|done", page.inner_text("#ssl-probe-progress"))

    # a row of the matrix: its softmax and loss term
    box = page.locator("#ssl-matrix").bounding_box()
    page.locator("#ssl-matrix").click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.75})
    page.wait_for_function("() => !/^Row 0 /.test(document.getElementById('ssl-row-note').textContent)")
    assert re.search(r"Row \d+ \(view 2 of image \d+\)", page.inner_text("#ssl-row-note"))

    # a held-out point: its nearest images
    scatter = page.locator("#ssl-embedding")
    # the canvas position of held-out point 0, as the page maps it
    x, y = page.evaluate("""async () => {
      const { scatterLayout } = await import("/static/js/selfsupervised/draw.js");
      const { decode } = await import("/static/js/grid.js");
      const res = await fetch(location.pathname.replace("/labs/", "/api/v1/") + "/sessions/" +
        (await import("/static/js/shell.js")).currentLab().session() + "?include=embedding");
      const e = (await res.json()).embedding, xy = decode(e.coords);
      const L = scatterLayout(document.getElementById("ssl-embedding"), e.coords.range[1]);
      return [L.x(xy[0]), L.y(xy[1])];
    }""")
    scatter.click(position={"x": x, "y": y})
    page.locator("#ssl-nn figure").first.wait_for()
    assert page.locator("#ssl-nn figure").count() == 9
    assert "nearest images" in page.inner_text("#ssl-nn")
    shot(page, "selfsupervised-trained")


@pytest.mark.parametrize(("width", "height", "query"), [
    (960, 540, ""), (640, 360, ""), (960, 540, "&present=1"),
])
def test_embed_shows_the_whole_picture_without_scrolling(page, server, width, height, query):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{server}/embed/selfsupervised?batch_size=16{query}")
    wait_for_lab(page)
    scroll = page.evaluate("[document.documentElement.scrollWidth - innerWidth,"
                           " document.documentElement.scrollHeight - innerHeight]")
    assert scroll == [0, 0], f"the embed scrolls by {scroll} at {width}×{height}"
    for sel in ("#ssl-matrix", "#ssl-embedding", "#ssl-play"):
        b = page.locator(sel).bounding_box()
        inside = b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= width
        inside = inside and b["y"] + b["height"] <= height
        assert inside, f"{sel} at {b} is not inside the {width}×{height} frame"
        if sel != "#ssl-play":
            assert b["width"] >= 150, f"{sel} is only {b['width']} px wide"
    if query:
        text = ".ssl-stage figcaption, .ssl-bar span, .ssl-bar b"
        sizes = page.evaluate("sel => [...document.querySelectorAll(sel)]"
                              ".map(el => parseFloat(getComputedStyle(el).fontSize))", text)
        assert min(sizes) >= 14, sizes
    shot(page, f"selfsupervised-embed-{width}x{height}{'-present' if query else ''}")


def test_phone_layout(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/labs/selfsupervised")
    wait_for_lab(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    matrix = page.locator("#ssl-matrix").bounding_box()
    bar = page.locator(".ssl-bar").bounding_box()
    assert matrix["width"] >= 330  # the picture at (nearly) full width
    assert bar["y"] > matrix["y"]  # controls below the picture
    wide = page.evaluate("""[...document.querySelectorAll('main *')].filter(el => {
        const r = el.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1; })
        .map(el => el.tagName + '#' + el.id + '.' + el.className).slice(0, 5)""")
    assert not wide, f"wider than the phone: {wide}"
    shot(page, "selfsupervised-phone")
