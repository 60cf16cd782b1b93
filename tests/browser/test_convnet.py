"""The ConvNet lab in Chromium: play until the test accuracy passes 80 % and the filters have
changed from their initial state; click a confusion cell and see its images; draw a digit and
get a prediction; the embed, presenter and phone views keep the network in sight."""

from __future__ import annotations

import json
import math
import re
import time
from urllib.parse import unquote

import httpx

from tests.browser.conftest import shot
from tests.browser.labpage import lab_call, wait_for_lab

ACC = "#cn-test-acc"


def accuracy(page) -> float:
    text = page.inner_text(ACC)
    match = re.search(r"([\d.]+)\s*%", text)
    return float(match.group(1)) if match else 0.0


def play_until(page, percent: float, timeout: float = 60.0) -> float:
    """Press play, wait until the test accuracy passes `percent`, pause; return the accuracy."""
    page.click("#cn-play")
    deadline = time.monotonic() + timeout
    while accuracy(page) <= percent:
        assert time.monotonic() < deadline, f"test accuracy {page.inner_text(ACC)} after {timeout} s"
        time.sleep(0.2)
    page.click("#cn-play")
    page.wait_for_function("() => document.querySelector('#cn-play').getAttribute('aria-label') === 'Play'")
    return accuracy(page)


def filter_images(page) -> list[str]:
    """The first layer's filter tiles as PNG data (what the student sees)."""
    return page.eval_on_selector_all('.cn-fl[data-layer="conv1"] canvas', "cs => cs.map(c => c.toDataURL())")


def wait_for_frame(page) -> None:
    """Until the page has drawn a frame that came after now (two animation frames settle it)."""
    time.sleep(0.3)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_play_past_80_percent_and_the_filters_change(page, server):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/labs/convnet")
    wait_for_lab(page)
    shot(page, "convnet-1440x900-start")
    before = filter_images(page)
    assert len(before) == 8
    assert lab_call(page, "inspect")["step"] == 0

    reached = play_until(page, 80.0)
    assert reached > 80.0
    info = lab_call(page, "inspect")
    matrix = info["confusion"]
    assert sum(matrix[i][i] for i in range(10)) / sum(map(sum, matrix)) > 0.8  # a blue diagonal
    wait_for_frame(page)
    now = filter_images(page)
    changed = sum(a != b for a, b in zip(before, now, strict=True))
    assert changed == 8, f"only {changed} of 8 first-layer filters look different after training"
    shot(page, "convnet-1440x900-trained")

    page.check('input[name="cn-filters-when"][value="initial"]')  # the filters at step 0, as they were
    wait_for_frame(page)
    assert filter_images(page) == before
    page.check('input[name="cn-filters-when"][value="now"]')
    wait_for_frame(page)
    assert filter_images(page) != before

    # each first-layer filter opens in the convolution lab's kernels-on-images part on a photo,
    # its 3×3 weights in the link
    href = page.get_attribute('.cn-fl[data-layer="conv1"] a', "href")
    match = re.fullmatch(r"/labs/convolution\?section=images&image=camera&kname=custom&custom=(.+)", href)
    assert match, href
    kernel = json.loads(unquote(match.group(1)))
    assert len(kernel) == 3 and all(len(row) == 3 for row in kernel)
    assert any(abs(v) > 0.05 for row in kernel for v in row)


def test_a_confusion_cell_shows_its_images(page, server):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/labs/convnet?seed=1")
    wait_for_lab(page)
    play_until(page, 80.0)
    wait_for_frame(page)
    info = lab_call(page, "inspect")
    matrix = info["confusion"]
    cells = [(matrix[t][p], t, p) for t in range(10) for p in range(10) if t != p and matrix[t][p]]
    count, t, p = max(cells) if cells else (matrix[3][3], 3, 3)
    point = lab_call(page, "inspect", t, p)["cellPoint"]
    page.mouse.click(point["x"], point["y"])
    title = page.locator("#cn-strip-title")
    title.filter(has_text=f"True {t}, predicted {p}:").wait_for()
    assert f"{count} image" in title.inner_text()
    info = lab_call(page, "inspect")
    assert info["cell"] == [t, p] and len(info["strip"]) == count
    # the same images the API lists behind that cell
    cell = httpx.get(f"{server}/api/v1/convnet/sessions/{info['session']}/confusion",
                     params={"true": t, "predicted": p}, trust_env=False).json()
    assert info["strip"] == cell["indices"]
    shot(page, "convnet-confusion-cell")

    # click the first image: the network traces it
    first = info["strip"][0]
    page.locator("#cn-strip").click(position={"x": 12, "y": 12})
    page.locator("#cn-example-label").filter(has_text=f"test image {first + 1} of").wait_for()
    assert lab_call(page, "inspect")["example"]["index"] == first


def test_draw_a_digit_and_get_a_prediction(page, server):
    page.goto(f"{server}/labs/convnet?speed=3")
    wait_for_lab(page)
    play_until(page, 90.0)
    pad = page.locator("#cn-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rx, ry = box["width"] * 0.28, box["height"] * 0.38
    page.mouse.move(cx, cy - ry)
    page.mouse.down()
    for k in range(1, 41):  # a zero: an ellipse, taller than wide
        a = 2 * math.pi * k / 40
        page.mouse.move(cx + rx * math.sin(a), cy - ry * math.cos(a))
    page.mouse.up()
    prediction = page.locator("#cn-draw-pred")
    prediction.filter(has_text="Prediction:").wait_for()
    example = lab_call(page, "inspect")["example"]
    assert example["source"] == "drawing"
    assert sum(example["probs"]) == 1.0 or abs(sum(example["probs"]) - 1) < 1e-3
    assert prediction.inner_text().startswith("Prediction: 0"), prediction.inner_text()
    # the 8×8 the network read is drawn beside the pad: some ink, and paper around it
    ink = page.evaluate("""() => {
        const c = document.querySelector('#cn-seen');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0, light = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i] < 120) dark++; else if (d[i] > 240) light++; }
        return [dark, light];
    }""")
    assert ink[0] > 0 and ink[1] > 0, ink
    # the network view shows the drawing too
    assert page.inner_text("#cn-example-label") == "your drawing"
    shot(page, "convnet-drawing")


# Elements whose own text is drawn below 14 px.
SMALL_TEXT = """() => [...document.querySelectorAll('main *')].filter(e => e.checkVisibility()
    && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
    && parseFloat(getComputedStyle(e).fontSize) < 14).map(e => e.textContent.trim().slice(0, 30))"""


def fits(page) -> dict:
    return page.evaluate("""() => {
        const r = document.querySelector('#cn-net').getBoundingClientRect();
        const d = document.documentElement;
        return {scrollX: d.scrollWidth - innerWidth, scrollY: d.scrollHeight - innerHeight,
                left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height,
                w: innerWidth, h: innerHeight};
    }""")


def test_embeds_show_the_whole_network_and_a_phone_puts_it_first(browser, server):
    for (w, h), query, name in [((960, 540), "", "960x540"), ((640, 360), "", "640x360"),
                                ((960, 540), "&present=1", "960x540-present")]:
        page = browser.new_context(viewport={"width": w, "height": h}).new_page()
        try:
            page.goto(f"{server}/embed/convnet?autoplay=0{query}")
            wait_for_lab(page)
            wait_for_frame(page)
            f = fits(page)
            assert f["scrollX"] <= 0 and f["scrollY"] <= 0, f"the {name} embed scrolls: {f}"
            assert f["left"] >= 0 and f["top"] >= 0 and f["right"] <= w and f["bottom"] <= h, f
            assert f["width"] * f["height"] >= 0.3 * w * h, f"the network takes too little of {name}: {f}"
            if query:
                small = page.evaluate(SMALL_TEXT)
                assert not small, f"text under 14 px in presenter mode: {small[:5]}"
                root = "getComputedStyle(document.documentElement)"
                # the canvases label in 20 px
                assert page.evaluate(f"{root}.getPropertyValue('--plot-font')").strip() == "20"
            shot(page, f"convnet-embed-{name}")
        finally:
            page.context.close()

    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    try:
        page.goto(f"{server}/labs/convnet")
        wait_for_lab(page)
        wait_for_frame(page)
        f = fits(page)
        assert f["scrollX"] <= 0, f"the phone page is wider than the screen: {f}"
        assert f["width"] >= 0.9 * (390 - 40), f  # full width, minus the page's and panel's padding
        stage = page.locator(".cn-stage").bounding_box()
        arch = page.locator(".cn-arch").bounding_box()
        assert stage["y"] < arch["y"], "the network comes before the controls"
        shot(page, "convnet-phone-390x844")
    finally:
        page.context.close()


def test_the_architecture_builder_counts_parameters_and_names_a_bad_layer(page, server):
    page.goto(f"{server}/labs/convnet")
    wait_for_lab(page)
    budget = page.locator("#cn-budget")
    assert budget.inner_text().startswith("1,898 parameters")
    first_conv = page.locator('#cn-layers li.conv').first
    first_conv.locator('select[data-key="filters"]').select_option("4")
    # 4 filters: conv1 4·(9 + 1) = 40, conv2 16·(4·9 + 1) = 592, the output 650
    budget.filter(has_text="1,282 parameters").wait_for()
    assert "layers=conv4k3p1" in page.url.replace("%2C", ",")
    assert "→ 4×8×8 · 40 params" in first_conv.inner_text()
    page.click('[data-add="pool"]')  # a third pooling: 2×2 → 1×1
    page.locator('#cn-layers li.pool').nth(2).wait_for()
    page.click('[data-add="pool"]')  # a fourth cannot fit the 1×1 map
    message = page.locator("#cn-message")
    message.filter(has_text="below 1×1").wait_for()
    said = message.inner_text()
    assert re.search(r"layer \d+ \(maxpool 2×2\): the 2×2 window does not fit the 1×1 map", said), said
    assert page.locator('#cn-layers li.pool').count() == 3  # the network stays as it was
    shot(page, "convnet-builder-error")
