"""Embedding in Chromium: the embed view (no chrome, hide=, 640×360), the share dialog's URL
reproduces the run, and a slide deck on another origin (and from disk) drives two labs."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.labs import BY_SLUG
from tests.browser.conftest import ROOT, shot
from tests.browser.labpage import counter, is_still, lab_call, open_dock, wait_for_change, wait_for_lab

SLIDES = ROOT / "tests" / "slides"
WRITTEN = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]
TOOLBAR_ITEMS = {"toolbar", "presets", "share", "export", "import", "keys"}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def deck_server() -> Iterator[str]:
    """tests/slides/ served on its own port: another origin than the playground, like a
    lecturer's slides on their own site."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SLIDES)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def lab_controls(page) -> list[str]:
    names = page.eval_on_selector_all("[data-control]", "els => els.map(e => e.dataset.control)")
    return [n for n in dict.fromkeys(names) if n not in TOOLBAR_ITEMS]


@pytest.mark.parametrize("lab", WRITTEN)
def test_embed_view_has_no_chrome_and_honours_hide(page, server, lab):
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    assert page.locator("header.site").count() == 1
    controls = lab_controls(page)
    assert len(controls) >= 2, f"the {lab} page marks fewer than two controls with m.ctl()"
    hide, keep = controls[0], controls[-1]

    page.set_viewport_size({"width": 640, "height": 360})
    page.goto(f"{server}/embed/{lab}?hide={hide},share")
    wait_for_lab(page)
    assert "embed=1" in page.url
    assert page.locator("header.site").count() == 0 and page.locator("footer.site").count() == 0
    assert page.locator(f'[data-control="{hide}"]').first.is_hidden()
    if page.locator("#np-dock").is_hidden():
        # a wide picture takes the frame's width with the controls folded away: ⚙ brings them
        shot(page, f"embed-{lab}-640x360-folded")
        assert open_dock(page)
        assert page.locator(f'[data-control="{hide}"]').first.is_hidden()
    assert page.locator(f'[data-control="{keep}"]').first.is_visible()
    assert page.locator('[data-action="share"]').is_hidden()
    assert page.locator('[data-action="export-png"]').is_visible()
    # fills its iframe: no horizontal scrollbar at 640×360
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 1, f"the embed view is {overflow}px wider than 640"
    shot(page, f"embed-{lab}-640x360")


@pytest.mark.parametrize("lab", WRITTEN)
def test_share_dialog_gives_a_url_that_reproduces_the_run(page, server, browser, lab):
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    state = lab_call(page, "state")
    page.click('[data-action="share"]')
    dialog = page.locator("#share-dialog")
    assert dialog.is_visible()
    hide = lab_controls(page)[0]
    dialog.locator(f'#share-hide input[value="{hide}"]').check()
    dialog.locator("#share-autoplay").check()
    embed_url = page.input_value("#share-embed-url")
    snippet = page.input_value("#share-snippet")
    assert embed_url.startswith(f"{server}/embed/{lab}?")
    assert f"hide={hide}" in embed_url and "autoplay=1" in embed_url
    assert snippet.startswith('<iframe src="') and 'width="960" height="540"' in snippet
    assert embed_url.replace("&", "&amp;") in snippet
    if "seed" in state:
        assert f"seed={state['seed']}" in embed_url
    shot(page, f"share-dialog-{lab}")
    page.keyboard.press("Escape")

    # The embed URL, opened elsewhere, starts from the same parameters (autoplay off here).
    other = browser.new_context(viewport={"width": 960, "height": 540}).new_page()
    try:
        other.goto(embed_url.replace("autoplay=1", "autoplay=0"))
        wait_for_lab(other)
        assert lab_call(other, "state") == state
        assert other.locator(f'[data-control="{hide}"]').first.is_hidden()
    finally:
        other.context.close()


# ---- the slide deck ------------------------------------------------------------------------

needs_both = pytest.mark.skipif(not {"mlp", "perceptron"} <= set(WRITTEN),
                                reason="the deck embeds the mlp and perceptron labs")


def next_slide(page, number: int) -> None:
    page.click(".slide.current h1, .slide.current h2")  # the keys belong to the deck again
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#slide-number") == str(number)


def wait_for_frame_lab(frame, timeout: float = 15_000) -> None:
    frame.locator("html[data-lab-registered]").wait_for(state="attached", timeout=timeout)


def drive_deck(page, url: str, name: str) -> None:
    page.goto(url)
    assert page.inner_text("#slide-number") == "1"

    next_slide(page, 2)  # the perceptron on XOR: one example at a time
    perceptron = page.frame_locator("#perceptron-frame")
    wait_for_frame_lab(perceptron)
    assert perceptron.locator("header.site").count() == 0
    assert perceptron.locator('[data-control="rule"]').is_hidden()
    seen = counter(perceptron, "#pc-steps")
    perceptron.locator("#pc-step").click()
    assert wait_for_change(perceptron, "#pc-steps", seen) == seen + 1
    shot(page, f"{name}-perceptron")

    next_slide(page, 3)  # the MLP: press play, watch the epochs go by
    mlp = page.frame_locator("#mlp-frame")
    wait_for_frame_lab(mlp)
    assert mlp.locator('[data-control="regularization"]').is_hidden()
    start = counter(mlp, "#mlp-epoch")
    mlp.locator("#mlp-play").click()
    assert wait_for_change(mlp, "#mlp-epoch", start) > start
    # "p" on the deck posts {np: "toggle"} to the slide's labs: the MLP pauses, then plays on
    page.click(".slide.current h2")
    page.keyboard.press("p")
    assert is_still(mlp, "#mlp-epoch")
    paused = counter(mlp, "#mlp-epoch")
    page.keyboard.press("p")
    assert wait_for_change(mlp, "#mlp-epoch", paused) > paused
    page.keyboard.press("p")
    assert is_still(mlp, "#mlp-epoch")
    shot(page, f"{name}-mlp")


@needs_both
def test_deck_on_another_origin_drives_two_labs(page, server, deck_server):
    drive_deck(page, f"{deck_server}/deck.html?base={server}", "deck-http")


@needs_both
def test_deck_opened_from_disk_drives_two_labs(page, server):
    drive_deck(page, f"{Path(SLIDES / 'deck.html').as_uri()}?base={server}", "deck-file")
