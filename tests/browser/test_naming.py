"""One name for every hyperparameter, word and symbol, in every lab."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.browser.labpage import wait_for_lab


def labels(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_momentum_settings_read_the_same_in_the_mlp_and_optimizer_labs(page, server):
    page.goto(f"{server}/labs/mlp?optimizer=momentum")
    wait_for_lab(page)
    mlp = labels(page, "#opt-params .field > span, #opt-params .check")
    mlp_lr = page.locator('[data-control="lr"]').get_attribute("data-label")
    assert page.locator('[data-control="lr"] > span').inner_text() == mlp_lr == "Learning rate η"

    page.goto(f"{server}/labs/optimizers")
    wait_for_lab(page)
    page.click('tr[data-kind="momentum"] .more')
    opt = labels(page, "#opt-hp-momentum .field > span")
    shot(page, "naming-optimizers-momentum")
    assert mlp == ["Momentum μ", "Dampening τ", "Weight decay λ"]
    assert set(mlp) <= set(opt)
    assert page.locator("#opt-table thead").inner_text().count("Learning rate η") == 1
    assert "γ" not in page.locator("#opt-table thead").inner_text()
    assert all("γ (" not in t for t in labels(page, ".explorer .field > span"))


def test_adam_and_rmsprop_fields_have_names_not_api_keys(page, server):
    page.goto(f"{server}/labs/optimizers")
    wait_for_lab(page)
    for kind in ("adam", "rmsprop", "adagrad"):
        page.click(f'tr[data-kind="{kind}"] .more')
        for text in labels(page, f"#opt-hp-{kind} .field > span"):
            assert "_" not in text and text[0].isupper(), text
