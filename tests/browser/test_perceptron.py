"""The perceptron lab in Chromium: step through AND, watch XOR fail, fix it with x1·x2."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.labpage import is_still, lab_call, wait_for_change, wait_for_lab


def _wait_ready(page):
    page.wait_for_selector("#pc-weights tr")


def test_step_through_and_reads_the_arithmetic(page, server):
    page.goto(server + "/labs/perceptron?preset=perceptron-and")
    _wait_ready(page)
    # First example (0, 0), y = −1, zero weights: score 0 is "too high" for a negative example.
    page.click("#pc-step")
    page.wait_for_selector("#pc-decision")
    text = page.inner_text("#pc-explain")
    assert "x = (0, 0), y = −1" in text
    assert "score s = w·x + b" in text and "= 0" in text
    assert "too high" in page.inner_text("#pc-decision")
    assert page.inner_text("#pc-b") == "−1"
    # Second example (0, 1), y = −1: score = 0·0 + 0·1 + (−1) = −1 → correct, no change.
    page.click("#pc-step")
    expect(page.locator("#pc-explain")).to_contain_text("x = (0, 1)")
    assert "correct" in page.inner_text("#pc-decision")
    shot(page, "perceptron-and-step")
    # Run to the end epoch by epoch: AND converges.
    for _ in range(20):
        if not page.locator("#pc-verdict").is_hidden():
            break
        page.click("#pc-epoch")
        page.wait_for_timeout(150)
    assert "converged" in page.inner_text("#pc-verdict")
    assert page.inner_text("#pc-w0") == "3" and page.inner_text("#pc-w1") == "2"
    assert page.inner_text("#pc-b") == "−4"
    assert "xor" not in page.url  # the URL carries the configuration
    assert "dataset=gate_and" in page.url


def test_xor_fails_and_the_x1x2_feature_fixes_it(page, server):
    page.goto(server + "/labs/perceptron?dataset=gate_xor")
    _wait_ready(page)
    page.click("#pc-play")
    page.wait_for_selector("#pc-verdict:not([hidden])")
    assert "not linearly separable: no line separates these points" in page.inner_text("#pc-verdict")
    shot(page, "perceptron-xor-fails")
    href = page.get_attribute("#pc-mlp-link", "href")
    assert "preset=xor-2-2-1-mlp" in href and "hidden=2" in href and "dataset=xor" in href
    page.click("#pc-add-x1x2")
    expect(page.locator("#pc-verdict")).to_contain_text("converged", timeout=10_000)
    assert re.search(r"features=x1%2Cx2%2Cx1x2|features=x1,x2,x1x2", page.url)
    assert page.locator("#pc-weights tr").count() == 4  # w for x1, x2, x1x2 and b
    shot(page, "perceptron-xor-fixed")


def test_clicking_adds_points(page, server):
    page.goto(server + "/labs/perceptron?dataset=gate_or")
    _wait_ready(page)
    box = page.locator("#pc-canvas").bounding_box()
    page.mouse.click(box["x"] + 30, box["y"] + 30)
    page.wait_for_url(re.compile(r"dataset=points"))
    assert "points=" in page.url
    page.click("#pc-step")
    page.wait_for_selector("#pc-decision")


def _import(page, state: dict, tmp_path) -> None:
    path = tmp_path / "perceptron.json"
    path.write_text(json.dumps({"format": "neural-playground/state", "version": 1, "lab": "perceptron",
                                "state": state}))
    page.set_input_files('.lab-toolbar input[data-action="import-json"]', str(path))


def test_import_continues_the_exported_run(page, server, browser, tmp_path):
    page.goto(server + "/labs/perceptron?dataset=xor&n_points=20&shuffle=true&seed=2&init=random")
    wait_for_lab(page)
    page.click("#pc-epoch")
    for _ in range(7):
        page.click("#pc-step")
    expect(page.locator("#pc-steps")).to_have_text("27")
    exported = lab_call(page, "exportState")
    page.click("#pc-step")  # the 28th example, as the uninterrupted run presents it
    expect(page.locator("#pc-steps")).to_have_text("28")
    next_text = page.inner_text("#pc-explain")

    fresh = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        fresh.goto(server + "/labs/perceptron")  # AND, untouched
        wait_for_lab(fresh)
        _import(fresh, exported, tmp_path)
        fresh.locator(".lab-toolbar .toolbar-status").filter(has_text="Imported").wait_for()
        expect(fresh.locator("#pc-steps")).to_have_text("27")
        assert fresh.inner_text("#pc-epoch-no") == "2"
        assert fresh.inner_text("#pc-total") == str(exported["frame"]["total_mistakes"])
        now = lab_call(fresh, "exportState")["frame"]
        assert (now["w"], now["b"]) == (exported["frame"]["w"], exported["frame"]["b"])
        assert "dataset=xor" in fresh.url and "shuffle=true" in fresh.url
        assert "Press Step to present the next example" in fresh.inner_text("#pc-explain")
        fresh.click("#pc-step")
        expect(fresh.locator("#pc-steps")).to_have_text("28")
        assert fresh.inner_text("#pc-explain") == next_text  # same example, same arithmetic
        shot(fresh, "perceptron-imported-and-stepped")

        # A file whose weights do not fit (3 weights for 2 features) fails with the reason.
        bad = {**exported, "frame": {**exported["frame"], "w": [1, 2, 3]}}
        _import(fresh, bad, tmp_path)
        status = fresh.locator(".lab-toolbar .toolbar-status")
        status.filter(has_text="failed").wait_for()
        assert "w must hold 2 weights" in status.inner_text()
    finally:
        fresh.context.close()


def test_one_epoch_shows_a_point_in_the_mistakes_chart(page, server):
    page.goto(server + "/labs/perceptron?preset=perceptron-and&present=1")
    _wait_ready(page)
    chart = page.locator("#pc-mistakes")
    red = ("c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
           " for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 80 && d[i + 2] < 80) n++;"
           " return n; }")
    assert chart.evaluate(red) == 0
    page.click("#pc-epoch")
    expect(page.locator("#pc-epoch-no")).to_have_text("2")
    assert chart.evaluate(red) > 50  # the epoch's 2 mistakes as a dot
    shot(page, "perceptron-one-epoch-present")


def test_autoplay_plays_and_the_lab_says_so(page, server):
    query = "dataset=gate_xor&max_epochs=10000&init=random&shuffle=true&autoplay=1"
    page.goto(f"{server}/labs/perceptron?{query}")
    wait_for_lab(page)
    first = wait_for_change(page, "#pc-steps", 0)
    assert wait_for_change(page, "#pc-steps", first) > first  # it goes on: autoplay did not pause it
    assert lab_call(page, "playing") is True
    lab_call(page, "toggle")
    expect(page.locator("#pc-play")).to_contain_text("Play")
    assert lab_call(page, "playing") is False and is_still(page, "#pc-steps")


def test_delta_rule_overshooting_is_diverged_and_numbers_stay_readable(page, server):
    """The delta rule at η = 1 on AND: the lab stops with a diverged verdict naming the bound,
    never prints raw floats, and never says "no change" for a step it then updates."""
    page.goto(server + "/labs/perceptron?dataset=gate_and&rule=adaline&lr=1")
    _wait_ready(page)
    texts = []
    for _ in range(3):  # examples 1–3 one by one: (0, 1) and (1, 0) are on their side, yet move
        page.click("#pc-step")
        page.wait_for_timeout(200)
        texts.append(page.inner_text("#pc-explain"))
    for text in texts:
        assert "no change" not in text, text
        assert "update:" in text and "w ←" in text
    assert "right side" in texts[1] and "still" in texts[1]
    page.click("#pc-play")
    expect(page.locator("#pc-verdict")).to_contain_text("diverged", timeout=15_000)
    verdict = page.inner_text("#pc-verdict")
    assert "η = 1" in verdict and "0.667" in verdict and "try η = 0.1" in verdict
    assert page.locator("#pc-play").is_disabled() and page.locator("#pc-step").is_disabled()
    shown = page.inner_text("#pc-explain") + page.inner_text("#pc-weights")
    assert "e+" not in shown and "e-" not in shown and not re.search(r"\d{7,}", shown), shown
    epochs = int(page.inner_text("#pc-epoch-no"))
    assert epochs <= 12
    shot(page, "perceptron-delta-diverged")


def test_choosing_the_delta_rule_takes_its_own_eta_and_converges(page, server):
    page.goto(server + "/labs/perceptron?dataset=gate_and")
    _wait_ready(page)
    assert page.input_value("#pc-controls [name=lr]") == "1"
    page.select_option("#pc-controls [name=rule]", "adaline")
    expect(page.locator("#pc-controls [name=lr]")).to_have_value("0.1")
    page.wait_for_timeout(300)
    page.click("#pc-play")
    expect(page.locator("#pc-verdict")).to_contain_text("converged", timeout=15_000)
    assert "lr=0.1" in page.url and "rule=adaline" in page.url


def test_large_numbers_are_formatted(page, server):
    # The formatter the lab prints with: powers of ten, a real minus sign, no raw floats.
    page.goto(server + "/labs/perceptron")
    _wait_ready(page)
    got = page.evaluate("""async () => { const m = await import('/static/js/perceptron/lab.js');
        return [1.2345e115, -3.5e-9, 123456.7, 0.5, -2, 0].map(v => m.plain(v)); }""")
    assert got == ["1.23·10¹¹⁵", "−3.5·10⁻⁹", "1.23·10⁵", "0.5", "−2", "0"]
