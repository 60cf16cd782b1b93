"""The convolution lab in Chromium: the slide's step-by-step to its last window, stride 2 changing
the formula and the grid, a cell edited by hand, "shift left" moving a photo (and the flip moving
it back), a hover showing neighbourhood × kernel, the parameter question, and every part fitting
a slide (960×540, 640×360) and a phone (390×844)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot
from tests.browser.labpage import GEOMETRY, counter, lab_call, wait_for_change, wait_for_lab

STEP = "#cv-step-count"


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def wait_text(page, selector: str, wanted: str, exact: bool = False) -> None:
    """Wait until the element's text contains (or, exact, is) `wanted`."""
    page.wait_for_function(
        "([sel, wanted, exact]) => { const t = document.querySelector(sel)?.textContent ?? ''; "
        "return exact ? t === wanted : t.includes(wanted); }", arg=[selector, wanted, exact])


def test_step_the_lecture_example_to_the_end(page, server):
    page.goto(f"{server}/labs/convolution")
    wait_for_lab(page)
    assert counter(page, STEP) == 0 and counter(page, "#cv-step-total") == 25
    assert "cross-correlation (what conv2d computes)" in text(page, "#cv-op")
    page.keyboard.press("ArrowRight")
    assert wait_for_change(page, STEP, 0) == 1
    first = text(page, "#cv-sum")
    assert first.startswith("out[0, 0] = 3·0 + 3·1 + 2·2 + 0·2 + 0·2 + 1·0 + 3·0 + 1·1 + 2·2 = 12"), first
    for n in range(2, 26):
        page.keyboard.press("ArrowRight")
        assert wait_for_change(page, STEP, n - 1) == n
    assert text(page, "#cv-out-size") == "5×5"
    assert text(page, "#cv-last-sum") == "19"
    assert text(page, "#cv-sum").startswith("out[4, 4] = 1·0 + 3·1 + 2·2")
    outputs = page.eval_on_selector_all("#cv-svg text.out-cell", "els => els.map(e => e.textContent)")
    assert outputs[:3] == ["12", "12", "17"] and len(outputs) == 25
    shot(page, "convolution-step-to-the-end")


def test_stride_two_changes_the_formula_and_the_grid(page, server):
    page.goto(f"{server}/labs/convolution")
    wait_for_lab(page)
    assert text(page, "#cv-h-out") == "5"
    page.fill("#cv-stride", "2")
    page.dispatch_event("#cv-stride", "change")
    wait_text(page, "#cv-out-size", "3×3", exact=True)
    formula = text(page, "#cv-formula")
    assert "⌊(7 + 2·0 − 1·(3 − 1) − 1) / 2⌋ + 1" in formula and "⌊4 / 2⌋ + 1 = 3" in formula
    assert counter(page, "#cv-step-total") == 9
    assert "stride=2" in page.url
    # a stride that does not divide evenly is shown, not refused: 7 + 2·1 at stride 3
    page.select_option("#cv-pad", "1")
    page.fill("#cv-stride", "3")
    page.dispatch_event("#cv-stride", "change")
    wait_text(page, "#cv-formula", "/ 3⌋")
    assert text(page, "#cv-out-size") == "3×3"  # ⌊(7 + 2 − 3) / 3⌋ + 1 = 3, remainder 0
    page.fill("#cv-h", "8")
    page.dispatch_event("#cv-h", "change")
    wait_text(page, "#cv-floor", "never fall under")
    assert "drops a remainder of 1" in text(page, "#cv-floor")
    shot(page, "convolution-stride")


def test_a_cell_typed_by_hand_changes_the_sum(page, server):
    page.goto(f"{server}/labs/convolution")
    wait_for_lab(page)
    page.locator('#cv-svg rect[data-kind="input"][data-r="0"][data-c="0"]').click()
    page.fill("#cv-editor-input", "−2")  # the minus sign the page prints is accepted
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('%5B%5B-2')")
    lab_call(page, "step")
    wait_text(page, "#cv-last-sum", "12", exact=True)
    assert text(page, "#cv-sum").startswith("out[0, 0] = (−2)·0")
    page.locator('#cv-svg rect[data-kind="kernel"][data-r="0"][data-c="0"]').click()
    page.fill("#cv-editor-input", "1")
    page.keyboard.press("Enter")  # the session starts over with the new kernel: −2·1 + 12 = 10
    wait_text(page, "#cv-step-count", "0", exact=True)
    lab_call(page, "step")
    wait_text(page, "#cv-last-sum", "10", exact=True)


def output_row(page, row: int) -> list[int]:
    """The red channel of one row of the filtered picture's canvas."""
    return page.evaluate("""row => {
        const c = document.querySelector('#cv-out');
        const d = c.getContext('2d').getImageData(0, row, c.width, 1).data;
        return Array.from({length: c.width}, (_, i) => d[i * 4]);
    }""", row)


def test_shift_left_moves_the_picture_and_the_flip_moves_it_back(page, server):
    page.goto(f"{server}/labs/convolution?section=images&image=astronaut&kname=identity&display=clip")
    wait_for_lab(page)
    wait_text(page, "#cv-moved", "unchanged")
    before = output_row(page, 128)
    page.click('#cv-gallery button[data-kernel="shift_left"]')
    wait_text(page, "#cv-moved", "moved 1 pixel left")
    after = output_row(page, 128)
    assert after[10:240] == before[11:241] and after != before  # each pixel came from its right neighbour
    assert "shift_left" in page.url
    shot(page, "convolution-shift-left")
    page.check("#cv-flip")  # true convolution turns the kernel: the same kernel moves it right
    wait_text(page, "#cv-moved", "moved 1 pixel right")
    assert text(page, "#cv-op") == "true convolution (kernel flipped)"
    assert output_row(page, 128)[11:241] == before[10:240]


def test_hover_shows_the_neighbourhood_times_the_kernel(page, server):
    page.goto(f"{server}/labs/convolution?section=images&image=camera&kname=sobel_x")
    wait_for_lab(page)
    box = page.locator("#cv-out").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    wait_text(page, "#cv-hover", "output pixel (128, 128)")
    hover = text(page, "#cv-hover")
    assert "×" in hover and "=" in hover
    cells = page.locator("#cv-hover table").nth(1).locator("td").all_inner_texts()
    assert cells == ["−1", "0", "1", "−2", "0", "2", "−1", "0", "1"]  # the kernel as multiplied


def test_the_parameter_question(page, server):
    page.goto(f"{server}/labs/convolution?section=params")
    wait_for_lab(page)
    wait_text(page, "#cv-fc-params", "154,141,696", exact=True)
    assert text(page, "#cv-conv-params") == "28,672"
    assert "150,528·1,024 weights + 1,024 biases" in text(page, "#cv-calc")
    page.fill("#cv-units", "10")
    page.dispatch_event("#cv-units", "change")
    wait_text(page, "#cv-fc-params", "1,505,290", exact=True)


# The step-by-step part is the lab's default: tests/browser/test_layout.py checks it in every
# frame. The other parts, reached with their tabs (the compact layout puts each part's own
# picture in the frame), are checked here.
PARTS = ["images", "layer", "params"]
TABS = {"images": "Kernels on images", "layer": "Conv layer", "params": "Parameters"}
PICTURES = {"images": "cv-pics", "layer": "cv-volume", "params": "cv-calc"}
DRAWN = {"images": "#cv-out-cap:has-text('×')", "layer": "#cv-vol canvas", "params": "#cv-fc-params"}


def show_part(pg, part: str) -> dict:
    pg.get_by_role("tab", name=TABS[part]).click()
    pg.wait_for_function("p => !document.querySelector(`[data-pane='${p}']`).hidden", arg=part)
    pg.locator(DRAWN[part]).first.wait_for()  # the part's picture came from the server
    pg.wait_for_timeout(300)
    return pg.evaluate(GEOMETRY)


@pytest.mark.parametrize("size", [(960, 540), (640, 360)], ids=["960x540", "640x360"])
def test_every_part_fits_a_slide(browser, server, size):
    w, h = size
    context = browser.new_context(viewport={"width": w, "height": h})
    pg = context.new_page()
    try:
        pg.goto(f"{server}/embed/convolution?hide=toolbar")
        wait_for_lab(pg)
        for part in PARTS:
            g = show_part(pg, part)
            shot(pg, f"convolution-embed-{part}-{w}x{h}")
            assert g["sw"] <= w and g["sh"] <= h, f"{part} at {w}×{h} scrolls: {g}"
            own = pg.evaluate(f"document.querySelector('.np-stage > [data-main-picture]')"
                              f".matches('.{PICTURES[part]}')")
            assert own, f"the {part} tab did not bring its own picture into the frame"
            pic = g["pic"]
            assert pic, f"{part} at {w}×{h}: nothing drawn in the picture"
            inside = min(pic["left"], pic["top"]) >= 0 and pic["right"] <= w + .5 and pic["bottom"] <= h + .5
            assert inside, f"{part} at {w}×{h}: the picture sticks out: {pic}"
            assert pic["width"] * pic["height"] >= 0.45 * w * h, f"{part} at {w}×{h}: the picture is {pic}"
            assert pic["height"] >= 0.85 * h or pic["width"] >= 0.85 * w, f"{part} at {w}×{h}: {pic}"
    finally:
        context.close()


def test_a_phone_gets_each_part_at_full_width(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    try:
        pg.goto(f"{server}/labs/convolution")
        wait_for_lab(pg)
        for part in PARTS:
            g = show_part(pg, part)
            shot(pg, f"convolution-phone-{part}")
            assert g["sw"] <= 390, f"{part} is {g['sw']} px wide on a 390 px phone"
            assert g["pic"]["width"] >= 330 and g["pic"]["top"] < 844 / 2, f"{part}: {g['pic']}"
    finally:
        context.close()


def test_a_students_own_picture_is_filtered(page, server, tmp_path):
    import numpy as np

    from engine import png

    pixels = np.zeros((40, 60, 3), dtype=np.uint8)
    pixels[:, 30:] = [250, 120, 0]  # an orange right half: one vertical edge
    path = tmp_path / "mine.png"
    path.write_bytes(png.encode(pixels))
    page.goto(f"{server}/labs/convolution?section=images&kname=sobel_x&channels=grey")
    wait_for_lab(page)
    page.set_input_files("#cv-file", str(path))
    wait_text(page, "#cv-orig-cap", "original 40×60")
    assert page.input_value("#cv-image") == "upload"
    legend = text(page, "#cv-legend")
    assert "output from 0 to" in legend  # Sobel x on a dark-to-bright edge: only positive responses
    shot(page, "convolution-own-picture")


def test_a_control_being_typed_in_when_the_window_narrows_keeps_its_edit(page, server):
    """The compact layout moves the controls; the number a student was typing into (focused, its
    change event still pending) is committed with the page whole and keeps the focus."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server}/labs/convolution")
    wait_for_lab(page)
    assert text(page, "#cv-out-size") == "5×5"
    page.fill("#cv-h", "6")  # typed: still focused, no change event yet
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_selector("html.np-compact", state="attached")
    wait_text(page, "#cv-out-size", "4×5", exact=True)  # the edit took effect
    assert page.evaluate("document.activeElement.id") == "cv-h"
    shot(page, "layout-narrowed-while-typing")
