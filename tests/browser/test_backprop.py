"""The backprop lab in Chromium: step through the worked example and read the numbers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot


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
