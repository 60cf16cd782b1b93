"""A wrong value in a field gets a banner in people's words (the control's label, no
"optimizers.0.lr: Input should …"), and the banner goes once the field is fixed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.labpage import wait_for_lab

RAW = re.compile(r"\b[a-z_]+(\.\d+)?(\.[a-z_]+)?: |Input should|Value error|message:")


def set_field(page, selector: str, value: str) -> None:
    field = page.locator(selector)
    field.fill(value)
    field.dispatch_event("change")


CASES = [
    ("perceptron", "#pc-error", '#pc-controls [name="lr"]', "0", "1", "Learning rate η"),
    ("backprop", "#bp-error", '#bp-controls [name="inputs"]', "2, x", "2, 3", "Inputs i"),
    ("optimizers", "#opt-message", 'tr[data-kind="gd"] .opt-lr', "-1", "0.1", "Learning rate η of GD"),
]


@pytest.mark.parametrize(("lab", "banner", "field", "bad", "good", "label"), CASES, ids=[c[0] for c in CASES])
def test_banner_speaks_plainly_and_goes_when_fixed(browser, server, lab, banner, field, bad, good, label):
    # Its own page: Chromium logs the expected 422 of a refused start as a console error.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{server}/labs/{lab}")
        wait_for_lab(page)
        set_field(page, field, bad)
        box = page.locator(banner)
        expect(box).to_be_visible(timeout=10_000)
        text = box.inner_text()
        shot(page, f"error-banner-{lab}")
        assert label in text, text
        assert not RAW.search(text), f"raw validation text: {text!r}"
        set_field(page, field, good)
        expect(box).to_be_hidden(timeout=10_000)
    finally:
        context.close()


def test_mlp_banner_names_the_hyperparameter_and_goes_when_fixed(page, server):
    page.goto(f"{server}/labs/mlp?optimizer=momentum")
    wait_for_lab(page)
    set_field(page, '[data-hyper="momentum"]', "-1")
    box = page.locator("#mlp-message")
    expect(box).to_be_visible(timeout=10_000)
    text = page.inner_text("#mlp-message-text")
    assert "Momentum μ" in text and not RAW.search(text), text
    assert "−1" in text  # a real minus sign
    set_field(page, '[data-hyper="momentum"]', "0.5")
    expect(box).to_be_hidden(timeout=10_000)
