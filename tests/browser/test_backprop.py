"""The backprop lab in Chromium: step through the worked example and read the numbers."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, shot
from tests.browser.labpage import lab_call, wait_for_lab


def test_worked_example_step_by_step(page, server):
    page.goto(server + "/labs/backprop?preset=backprop-worked-example")
    expect(page.locator("#bp-step-title")).to_have_text("Step 1 · Initialize")
    assert page.inner_text("#bp-w-w1") == "0.11" and page.inner_text("#bp-w-w6") == "0.15"
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 2 · Forward pass")
    assert page.inner_text("#bp-f-h1") == "0.85"
    assert page.inner_text("#bp-f-h2") == "0.48"
    assert page.inner_text("#bp-f-o") == "0.191"
    assert "h1 = i1·w1 + i2·w2 = 2·0.11 + 3·0.21 = 0.85" in page.inner_text("#bp-step-body")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 3 · Error at the output")
    assert page.inner_text("#bp-delta") == "−0.809"
    assert page.inner_text("#bp-E-step") == "0.32724"
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
    body = page.inner_text("#bp-step-body")
    assert "∂E/∂w1 = Δ · w5 · i1 = (−0.809) · 0.14 · 2 = −0.22652" in body
    assert "∂E/∂w6 = Δ · h2 = (−0.809) · 0.48 = −0.38832" in body
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
    assert page.inner_text("#bp-u-w6") == "0.169416"
    assert page.inner_text("#bp-u-w1") == "0.121326"
    shot(page, "backprop-update")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 6 · Repeat")
    assert page.inner_text("#bp-E-after") == "0.276957"
    assert "✓" in page.inner_text("#bp-check-max")


def test_graph_fills_forward_then_backward(page, server):
    page.goto(server + "/labs/backprop")
    expect(page.locator("#bp-step-title")).to_have_text("Step 1 · Initialize")
    canvas = page.locator("#bp-graph")
    before = canvas.screenshot()
    page.click("#bp-g-next")
    expect(page.locator("#bp-g-status")).to_contain_text("forward 1")
    expect(page.locator("#bp-g-status")).to_contain_text("= 0.22")  # i1·w1 = 2·0.11
    assert canvas.screenshot() != before
    page.click("#bp-g-all")
    expect(page.locator("#bp-g-status")).to_contain_text("backward")
    shot(page, "backprop-graph")


def test_editing_activation_and_too_large_rate(page, server):
    page.goto(server + "/labs/backprop")
    expect(page.locator("#bp-step-title")).to_have_text("Step 1 · Initialize")
    page.select_option("#bp-controls [name=activation]", "sigmoid")
    page.check("#bp-controls [name=biases]")
    page.wait_for_url("**activation=sigmoid**")
    page.click("#bp-next")
    expect(page.locator("#bp-step-body")).to_contain_text("σ(z_h1)")
    page.fill("#bp-controls [name=lr]", "5")
    page.select_option("#bp-controls [name=activation]", "linear")
    page.click("#bp-play")
    expect(page.locator("#bp-error")).to_contain_text("diverged", timeout=15_000)
    shot(page, "backprop-diverged")


def test_import_continues_the_exported_walk_through(page, server, browser, tmp_path):
    page.goto(server + "/labs/backprop?activation=sigmoid")
    wait_for_lab(page)
    for _ in range(8):  # iteration 1 done, then step 2 → 3 → 4 of iteration 2
        page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
    exported = lab_call(page, "exportState")
    body = page.inner_text("#bp-step-body")
    page.click("#bp-next")
    expect(page.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
    update = page.inner_text("#bp-step-body")

    path = tmp_path / "backprop.json"
    path.write_text(json.dumps({"format": "neural-playground/state", "version": 1, "lab": "backprop",
                                "state": exported}))
    fresh = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        fresh.goto(server + "/labs/backprop")
        wait_for_lab(fresh)
        fresh.set_input_files('.lab-toolbar input[data-action="import-json"]', str(path))
        fresh.locator(".lab-toolbar .toolbar-status").filter(has_text="Imported").wait_for()
        expect(fresh.locator("#bp-step-title")).to_have_text("Step 4 · Backpropagate the error")
        assert fresh.inner_text("#bp-iteration") == "1"
        assert fresh.inner_text("#bp-step-body") == body
        assert lab_call(fresh, "exportState")["frame"]["network"] == exported["frame"]["network"]
        assert lab_call(fresh, "exportState")["frame"]["losses"] == exported["frame"]["losses"]
        fresh.click("#bp-next")
        expect(fresh.locator("#bp-step-title")).to_have_text("Step 5 · Update the weights")
        assert fresh.inner_text("#bp-step-body") == update
        fresh.click("#bp-next")
        expect(fresh.locator("#bp-iteration")).to_have_text("2")
        shot(fresh, "backprop-imported-and-stepped")
    finally:
        fresh.context.close()


def test_hide_start_hides_the_start_buttons_not_the_presets_menu(page, server):
    page.goto(server + "/labs/backprop?hide=presets")
    wait_for_lab(page)
    expect(page.locator("#bp-classic")).to_be_visible()
    page.goto(server + "/labs/backprop?hide=start")
    wait_for_lab(page)
    expect(page.locator("#bp-classic")).to_be_hidden()
    expect(page.locator(".lab-toolbar button.presets")).to_be_visible()


def _labels(page) -> list[dict]:
    return json.loads(page.get_attribute("#bp-network", "data-labels"))


def _crosses(box: dict, seg: list[float]) -> bool:
    """Whether a segment passes through a box (x, y: centre), by sampling it finely."""
    x0, y0, x1, y1 = seg
    return any(abs(x0 + (x1 - x0) * t / 200 - box["x"]) < box["w"] / 2
               and abs(y0 + (y1 - y0) * t / 200 - box["y"]) < box["h"] / 2 for t in range(201))


@pytest.mark.parametrize("present", [False, True])
def test_each_weight_label_sits_on_its_own_edge(page, server, present):
    page.goto(server + "/labs/backprop?preset=backprop-worked-example" + ("&present=1" if present else ""))
    wait_for_lab(page)
    labels = _labels(page)
    assert [lb["name"] for lb in labels] == ["w1", "w2", "w3", "w4", "w5", "w6"]
    for i, a in enumerate(labels):
        assert _crosses(a, a["edge"]), f"{a['name']} is not on its edge"
        for j, b in enumerate(labels):
            if i != j:
                assert not _crosses(a, b["edge"]), f"{b['name']}'s edge runs through {a['name']}'s label"
                apart_x = abs(a["x"] - b["x"]) >= (a["w"] + b["w"]) / 2
                apart_y = abs(a["y"] - b["y"]) >= (a["h"] + b["h"]) / 2
                assert apart_x or apart_y, f"{a['name']} overlaps {b['name']}"
    # the label type follows the plot style: 14 px, 20 px in presenter mode (box = 1.25 × font)
    assert labels[0]["h"] == (25 if present else 17.5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = f"backprop-network{'-present' if present else ''}.png"
    page.locator(".bp-net").screenshot(path=str(ARTIFACTS / name))
