"""The perceptron lab in Chromium: step through AND, watch XOR fail, fix it with x1·x2."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import shot


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
