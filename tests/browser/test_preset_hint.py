"""A preset says what it shows on the page (its one-line hint), and the Presets button names it
only while the settings are still the preset's."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.labpage import wait_for_lab


def test_preset_hint_and_button_follow_the_settings(page, server):
    page.goto(f"{server}/labs/perceptron?preset=perceptron-and")
    wait_for_lab(page)
    button = page.locator(".lab-toolbar button.presets")
    hint = page.locator(".preset-hint")
    expect(button).to_contain_text("Perceptron learns AND")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("converges after a few epochs")
    box = hint.bounding_box()
    assert box["height"] < 2.2 * 16 * 1.5, "the hint takes one line"
    shot(page, "preset-hint")

    page.fill('#pc-controls [name="lr"]', "0.5")
    page.locator('#pc-controls [name="lr"]').dispatch_event("change")
    expect(button).to_have_text("Presets")
    expect(hint).to_be_hidden()
    assert page.locator('#presets-menu a[aria-current]').count() == 0

    page.fill('#pc-controls [name="lr"]', "1")
    page.locator('#pc-controls [name="lr"]').dispatch_event("change")
    expect(button).to_contain_text("Perceptron learns AND")
    expect(hint).to_be_visible()


def test_no_hint_without_a_preset(page, server):
    page.goto(f"{server}/labs/mlp")
    wait_for_lab(page)
    expect(page.locator(".lab-toolbar button.presets")).to_have_text("Presets")
    assert page.locator(".preset-hint").count() == 0 or page.locator(".preset-hint").is_hidden()
