"""Typography a lecture hall reads: lower-case x₁, real minus signs, singular "1 update", math
labels kept in their case."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.labpage import wait_for_lab


def test_perceptron_update_reads_as_subtraction(page, server):
    page.goto(f"{server}/labs/perceptron?preset=perceptron-and")
    wait_for_lab(page)
    page.click("#pc-step")  # (0, 0) with y = −1 scores 0: too high, w ← w − 1·x
    page.wait_for_selector("#pc-decision")
    text = page.inner_text("#pc-explain")
    assert "w ← w − 1·x" in text, text
    assert "+ −" not in text and "+ (−" not in text.split("w ←")[1].split("=")[0]
    assert "b ← b − 1" in text
    headers = page.locator("#pc-weights th").all_inner_texts()
    assert headers[:2] == ["w (x₁)", "w (x₂)"], headers


def test_one_update_is_singular(page, server):
    starts = json.dumps([[1, 1]])
    optimizers = json.dumps([{"name": "gd", "lr": 0.5}])
    page.goto(f"{server}/labs/optimizers?surface=bowl&starts={starts}&optimizers={optimizers}")
    wait_for_lab(page)
    page.click("#opt-step")
    page.click("#opt-step")
    status = page.locator('#opt-status li[data-optimizer="gd"]')
    expect(status).to_contain_text("after 1 update")
    assert "1 updates" not in status.inner_text()


def test_backprop_change_has_a_real_minus(page, server):
    page.goto(f"{server}/labs/backprop?preset=backprop-worked-example")
    wait_for_lab(page)
    for _ in range(5):
        page.click("#bp-next")
        page.wait_for_timeout(100)
    expect(page.locator("#bp-step-title")).to_contain_text("Repeat")
    text = page.inner_text("#bp-step-body")
    assert "(−" in text and "%)" in text and "(-" not in text, text


def test_surface_names_keep_their_maths(page, server):
    page.goto(f"{server}/labs/optimizers?surface=saddle")
    wait_for_lab(page)
    expect(page.locator("#opt-plot-h")).to_contain_text("x² − y²")
    assert "X²" not in page.inner_text("#opt-plot-h")
    status = page.inner_text("#opt-status")
    assert "e-" not in status, status


def test_a_finished_race_offers_play_not_pause(page, server):
    page.goto(f"{server}/labs/optimizers?surface=bowl&speed=5&max_iterations=30")
    wait_for_lab(page)
    page.click("#opt-play")
    expect(page.locator("#opt-iter")).to_have_text("30", timeout=20_000)
    play = page.locator("#opt-play")
    expect(play).to_be_disabled()
    expect(play).to_have_attribute("aria-label", "Play")
    assert page.get_by_role("button", name="Pause").count() == 0
