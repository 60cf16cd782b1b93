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


CASES = [  # lab (and query), banner, field, a wrong value, a right one, the label the banner says
    ("perceptron", "#pc-error", '#pc-controls [name="lr"]', "0", "1", "Learning rate η"),
    ("backprop", "#bp-error", '#bp-controls [name="inputs"]', "2, x", "2, 3", "Inputs i"),
    ("optimizers", "#opt-message", 'tr[data-kind="gd"] .opt-lr', "-1", "0.1", "Learning rate η of GD"),
    ("convolution?section=params", "#cv-error", "#cv-cw", "0", "224", "Width W"),
    ("convnet", "#cn-message", '[data-param="seed"]', "-1", "0", "Seed"),
    ("scale", "#sc-error", '#sc-form [name="widths"]', "8, x", "8, 16", "Widths"),
]
SUBMIT = {"scale": "#sc-apply"}  # the sweep's form takes its values on "New sweep"


@pytest.mark.parametrize(("lab", "banner", "field", "bad", "good", "label"), CASES,
                         ids=[c[0].split("?")[0] for c in CASES])
def test_banner_speaks_plainly_and_goes_when_fixed(browser, server, lab, banner, field, bad, good, label):
    # Its own page: Chromium logs the expected 422 of a refused start as a console error.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    submit = SUBMIT.get(lab.split("?")[0])
    try:
        page.goto(f"{server}/labs/{lab}")
        wait_for_lab(page)
        set_field(page, field, bad)
        if submit:
            page.click(submit)
        box = page.locator(banner)
        expect(box).to_be_visible(timeout=10_000)
        text = box.inner_text()
        shot(page, f"error-banner-{lab.split('?')[0]}")
        assert label in text, text
        assert not RAW.search(text), f"raw validation text: {text!r}"
        set_field(page, field, good)
        if submit:
            page.click(submit)
        expect(box).to_be_hidden(timeout=10_000)
    finally:
        context.close()


def test_a_rejected_link_says_what_in_the_labels_words(browser, server):
    """The self-supervised lab's controls only offer valid values; a link can still carry wrong ones."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{server}/labs/selfsupervised?lr=-1&tau=9")
        wait_for_lab(page)
        box = page.locator("#ssl-message")
        expect(box).to_be_visible(timeout=10_000)
        text = box.inner_text()
        assert "Temperature τ" in text and "Learning rate η" in text and "default settings" in text, text
        assert not re.search(r"\b(lr|tau)\b|Input should|Value error", text), f"raw validation text: {text!r}"
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
