"""The depth lab in Chromium: a student plays plain vs residual at depth 30 and sees the
residual loss fall below the plain one while the gradient bars (one per layer and network)
change; the signal-at-initialization and activation views say what they show; in a slide's
frame each view's tab brings its picture in (the frames themselves: test_layout.py)."""

from __future__ import annotations

import re
import time

from tests.browser.conftest import shot
from tests.browser.labpage import GEOMETRY, counter, wait_for_lab

PAGE = "/labs/depth"
COLORS = {"A": (0x6A, 0x3D, 0x9A), "B": (0x1B, 0x9E, 0x77)}

# The bars of the main picture, read back from its pixels: for every layer's slot and every
# network, the height (CSS px) of the tallest run of that network's colour in the slot.
BAR_HEIGHTS = """([colors]) => {
  const canvas = document.querySelector('#depth-main');
  const b = JSON.parse(canvas.dataset.bars);
  const dpr = canvas.width / canvas.clientWidth;
  const ctx = canvas.getContext('2d');
  const out = colors.map(() => []);
  for (let i = 0; i < b.count; i++) {
    colors.forEach((rgb, k) => {
      const x = Math.round((b.x0 + i * b.slot + b.slot * 0.08 + (k + 0.5) * b.barWidth) * dpr);
      const y0 = Math.round(b.y0 * dpr), y1 = Math.round(b.y1 * dpr);
      const col = ctx.getImageData(x, y0, 1, y1 - y0).data;
      let top = null;
      for (let y = 0; y < y1 - y0; y++) {
        const [r, g, bl] = [col[4 * y], col[4 * y + 1], col[4 * y + 2]];
        if (Math.abs(r - rgb[0]) + Math.abs(g - rgb[1]) + Math.abs(bl - rgb[2]) < 40) { top = y; break; }
      }
      out[k].push(top === null ? 0 : (y1 - y0 - top) / dpr);
    });
  }
  return out;
}"""


def bar_heights(page) -> list[list[float]]:
    return page.evaluate(BAR_HEIGHTS, [list(COLORS.values())])


def wait_text(page, pattern: str, timeout: float = 90.0) -> str:
    page.wait_for_function(
        "pattern => new RegExp(pattern).test(document.querySelector('#depth-say').innerText)",
        arg=pattern, timeout=timeout * 1000)
    return page.inner_text("#depth-say")


def test_plain_vs_residual_the_residual_loss_falls_below_and_the_bars_change(page, server):
    page.goto(f"{server}{PAGE}")
    wait_for_lab(page)
    page.wait_for_function("() => document.querySelector('#depth-main').dataset.bars")
    plain, residual = bar_heights(page)
    assert len(plain) == len(residual) == 31, "one bar per dense layer (30 hidden + the output) and network"
    assert all(h > 0 for h in plain + residual), f"every bar drawn: {plain} {residual}"
    # vanishing: the plain network's bars fall toward the input, the residual one's stay up
    assert plain[0] < plain[-1] / 3 and residual[0] > plain[0] + 100, (plain, residual)
    assert "Step 0" in page.inner_text("#depth-headline")
    shot(page, "depth-step-0")

    page.click("#depth-play")
    text = wait_text(page, r"B's loss \([\d.]+\) is below A's \([\d.]+\)")
    text = wait_text(page, r"B learns; A is still guessing")
    b, a = (float(v) for v in re.search(r"B's loss \(([\d.]+)\) is below A's \(([\d.]+)\)", text).groups())
    assert b < a, text
    assert "Vanishing" in text and "skip connections carry it back" in text
    later = bar_heights(page)
    changed = sum(abs(x - y) > 1 for x, y in zip(later[1], residual, strict=True))
    assert changed >= 5, f"the residual network's bars did not change: {later[1]} vs {residual}"
    # the loss keeps falling: a few seconds later B's loss is lower still
    time.sleep(3)
    text = page.inner_text("#depth-say")
    b_later = float(re.search(r"B's loss has fallen to ([\d.]+)", text).group(1))
    assert b_later < a - 0.2, text
    assert counter(page, "#depth-step-count") > 0
    page.click("#depth-play")  # pause
    shot(page, "depth-plain-vs-residual-1280x720")


def test_hover_reads_a_layer_and_the_networks_change_from_the_controls(page, server):
    page.goto(f"{server}{PAGE}?depth=6&dataset=spiral")
    wait_for_lab(page)
    page.wait_for_function("() => document.querySelector('#depth-main').dataset.bars")
    box = page.locator("#depth-main").bounding_box()
    bars = page.evaluate("JSON.parse(document.querySelector('#depth-main').dataset.bars)")
    page.mouse.move(box["x"] + bars["x0"] + bars["slot"] * 0.5, box["y"] + (bars["y0"] + bars["y1"]) / 2)
    assert re.search(r"layer 1: A ‖∂L/∂W‖ = \S+, ‖ΔW‖/‖W‖ = \S+ · B", page.inner_text("#depth-readout"))
    page.select_option('[data-net="1"] [data-net-param="activation"]', "relu")
    page.wait_for_function("() => document.querySelector('[data-net=\"1\"]').title.includes('relu')")
    page.click("#depth-add-net")
    page.wait_for_function("() => !document.querySelector('[data-net=\"2\"]').hidden")
    page.wait_for_function("() => JSON.parse(document.querySelector('#depth-main').dataset.bars).nets === 3")
    assert "networks=" in page.evaluate("location.search")
    assert page.locator("#depth-updates").is_visible()


def test_signal_at_initialization_and_the_activation_views(page, server):
    page.goto(f"{server}{PAGE}")
    wait_for_lab(page)
    page.click("#tab-propagation")
    page.wait_for_function("() => document.querySelector('#prop-headline').innerText.includes('shrinks')")
    lines = page.inner_text("#prop-lines")
    assert "Xavier / Glorot picks Var(W)" in lines and "He / Kaiming" in lines
    assert "view=propagation" in page.evaluate("location.search")
    page.check("#view-propagation input[data-param='prop_batchnorm']")
    page.wait_for_function("() => document.querySelector('#prop-headline').innerText.includes('BatchNorm')")
    shot(page, "depth-propagation")

    page.click("#tab-activations")
    notes = "() => document.querySelector('#fn-notes').innerText.includes('max f′ = 0.25 at z = 0')"
    page.wait_for_function(notes, timeout=30_000)
    assert "0.25¹⁰ = 9.5×10⁻⁷" in page.inner_text("#fn-bound")
    box = page.locator("#fn-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    assert re.search(r"z = [\d.]+: Sigmoid f = [\d.]+, f′ = [\d.]+ · ReLU", page.inner_text("#fn-readout"))
    page.select_option("[data-param='fn2']", "tanh")
    page.wait_for_function("() => document.querySelector('#fn-notes').innerText.includes('Tanh')")
    shot(page, "depth-activations")


def test_an_embed_switches_views_in_place(browser, server):
    """In a slide's frame each view's tab brings that view's picture into the frame (no reload).
    The frame's fit at both sizes, presenter mode and the phone: tests/browser/test_layout.py."""
    ctx = browser.new_context(viewport={"width": 960, "height": 540})
    page = ctx.new_page()
    try:
        page.goto(f"{server}/embed/depth?hide=toolbar")
        wait_for_lab(page)
        page.evaluate("window.samePage = true")
        for tab, picture in [("#tab-propagation", "prop-canvas"), ("#tab-activations", "fn-canvas"),
                             ("#tab-train", "depth-main")]:
            page.click(tab)
            shown = "id => document.querySelector('.np-stage > [data-main-picture]').id === id"
            page.wait_for_function(shown, arg=picture)
            g = page.evaluate(GEOMETRY)
            assert g["sw"] <= 960 and g["sh"] <= 540, g
            pic = g["pic"]
            assert pic["right"] <= 960 and pic["bottom"] <= 540 and pic["height"] >= 0.85 * 540, pic
        assert page.evaluate("window.samePage === true"), "switching views reloaded the page"
        assert "view=train" in page.evaluate("location.search")
        shot(page, "depth-embed-views")
    finally:
        ctx.close()
