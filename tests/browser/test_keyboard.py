"""Presenter mode in Chromium: space / → / r / + / − / f drive the MLP lab from the keyboard,
?autoplay=1 starts it, ?present=1 enlarges type and lines."""

from __future__ import annotations

import pytest

from app.labs import BY_SLUG
from tests.browser.conftest import ROOT, shot
from tests.browser.labpage import counter, is_still, lab_call, wait_for_change, wait_for_lab

EPOCH = "#mlp-epoch"
WRITTEN = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]
needs_mlp = pytest.mark.skipif("mlp" not in WRITTEN, reason="the MLP lab page is not written yet")


@needs_mlp
def test_space_arrow_and_r_drive_the_mlp(page, server):
    page.goto(f"{server}/labs/mlp?seed=1")
    wait_for_lab(page)
    assert counter(page, EPOCH) == 0

    page.keyboard.press("ArrowRight")  # one epoch
    assert wait_for_change(page, EPOCH, 0) == 1
    assert is_still(page, EPOCH, settle=0.2, watch=0.5)

    page.keyboard.press(" ")  # play: the epochs run on
    first = wait_for_change(page, EPOCH, 1)
    assert wait_for_change(page, EPOCH, first) > first
    page.keyboard.press(" ")  # pause
    assert is_still(page, EPOCH)
    shot(page, "keyboard-mlp-paused")

    page.keyboard.press("r")  # reset to epoch 0
    assert wait_for_change(page, EPOCH, counter(page, EPOCH)) == 0


@needs_mlp
def test_space_on_a_clicked_button_still_plays(page, server):
    """After a click on Step, the focus is on that button; space still means play/pause."""
    page.goto(f"{server}/labs/mlp?seed=1")
    wait_for_lab(page)
    page.click("#mlp-step")
    assert wait_for_change(page, EPOCH, 0) == 1
    page.keyboard.press(" ")
    assert wait_for_change(page, EPOCH, 1) > 1
    page.keyboard.press(" ")
    assert is_still(page, EPOCH)


@needs_mlp
def test_keys_are_left_to_fields(page, server):
    """Typing in a field or moving a slider does not drive the lab."""
    page.goto(f"{server}/labs/mlp?seed=1")
    wait_for_lab(page)
    page.focus('input[type="range"][data-param="noise"]')
    page.keyboard.press("ArrowRight")  # moves the slider, does not step
    page.keyboard.press("r")
    assert is_still(page, EPOCH, settle=0.3, watch=0.4) and counter(page, EPOCH) == 0


@needs_mlp
def test_plus_and_minus_change_the_speed(page, server):
    page.goto(f"{server}/labs/mlp?seed=1")
    wait_for_lab(page)
    select = page.locator('select[data-param="speed"]')
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    before = select.input_value()
    page.keyboard.press("+")
    faster = select.input_value()
    assert options.index(faster) == min(options.index(before) + 1, len(options) - 1)
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert options.index(select.input_value()) == max(options.index(before) - 1, 0)


@needs_mlp
def test_f_toggles_fullscreen(page, server):
    page.goto(f"{server}/labs/mlp")
    wait_for_lab(page)
    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement === document.documentElement")
    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement === null")


@needs_mlp
def test_autoplay_starts_the_run(page, server):
    page.goto(f"{server}/labs/mlp?seed=1&autoplay=1")
    wait_for_lab(page)
    assert wait_for_change(page, EPOCH, 0) > 0
    lab_call(page, "toggle")
    assert is_still(page, EPOCH)


@pytest.mark.parametrize("lab", WRITTEN)
def test_present_mode_enlarges_type_and_lines(page, server, lab):
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    normal = page.evaluate("[parseFloat(getComputedStyle(document.documentElement).fontSize), "
                           "getComputedStyle(document.documentElement).getPropertyValue('--plot-line')]")
    page.goto(f"{server}/labs/{lab}?present=1")
    wait_for_lab(page)
    assert page.evaluate("document.documentElement.classList.contains('present')")
    big = page.evaluate("[parseFloat(getComputedStyle(document.documentElement).fontSize), "
                        "getComputedStyle(document.documentElement).getPropertyValue('--plot-line')]")
    assert normal[0] == 16 and big[0] == 21
    assert float(big[1]) > float(normal[1])
    style = page.evaluate("import('/static/js/shell.js').then(m => m.plotStyle())")
    assert style == {"line": 3.5, "gridLine": 1.5, "point": 6.5, "font": 20}
    # the lab's smallest visible text is still legible from the back of the room
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('main *')]
        .filter(e => e.offsetParent !== null
                     && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 14, f"the smallest text in presenter mode is {smallest}px"
    shot(page, f"present-{lab}")


@needs_mlp
@pytest.mark.parametrize("control", ['[data-param="activation"]', 'label.chip:has(input[value="xor"])',
                                     'input[data-param="show_test"]'])
def test_space_after_clicking_a_select_or_chip_plays(page, server, control):
    """A control clicked with the mouse keeps the focus; space still means play/pause then."""
    page.goto(f"{server}/labs/mlp?seed=1")
    wait_for_lab(page)
    page.click(control)
    page.keyboard.press("Escape")  # a select's list, if it opened
    start = counter(page, EPOCH)
    page.keyboard.press(" ")
    assert wait_for_change(page, EPOCH, start) > start
    page.keyboard.press(" ")
    assert is_still(page, EPOCH)


@needs_mlp
def test_space_on_a_select_reached_by_keyboard_stays_the_selects(page, server):
    page.goto(f"{server}/labs/mlp?seed=1")
    wait_for_lab(page)
    page.focus('[data-param="activation"]')
    page.keyboard.press(" ")
    assert is_still(page, EPOCH, settle=0.3, watch=0.4) and counter(page, EPOCH) == 0
