"""Helpers for browser tests of lab pages: wait for the lab, call its controller, read counters."""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

SHELL = "/static/js/shell.js"


def wait_for_lab(page, timeout: float = 15_000) -> None:
    """Wait until the lab registered its controller and drew its first frame (labReady()).

    A lab that does not call labReady() yet is given 1.5 s after registering."""
    page.wait_for_selector("html[data-lab-registered]", state="attached", timeout=timeout)
    with contextlib.suppress(PlaywrightTimeout):  # a lab that never says it drew gets 1.5 s
        page.wait_for_selector("html[data-lab-ready]", state="attached", timeout=1500)


def open_dock(page) -> bool:
    """In an embed whose wide picture took the frame's width, press ⚙ to bring the controls
    back as a viewer would; True when they had been folded away."""
    toggle = page.locator(".np-dock-toggle")
    if not toggle.count() or toggle.get_attribute("aria-expanded") != "false":
        return False
    assert toggle.is_visible(), "the controls are folded away and no ⚙ button brings them back"
    toggle.click()
    page.locator("#np-dock").wait_for(state="visible")
    return True


def lab_call(page_or_frame, method: str, *args: Any) -> Any:
    """Call the registered controller's method (awaiting a Promise) and return its result."""
    return page_or_frame.evaluate(
        """async ([shell, method, args]) => {
             const lab = (await import(shell)).currentLab();
             if (!lab || typeof lab[method] !== "function") throw new Error(`the lab has no ${method}()`);
             return await lab[method](...args);
           }""",
        [SHELL, method, list(args)],
    )


def number(text: str) -> float:
    """The first number in a counter's text ("000,123" → 123, "epoch 4" → 4)."""
    match = re.search(r"-?\d[\d,]*(\.\d+)?", text)
    assert match, f"no number in {text!r}"
    return float(match.group(0).replace(",", ""))


def counter(page_or_frame, selector: str) -> float:
    return number(page_or_frame.locator(selector).inner_text())


def wait_for_change(page_or_frame, selector: str, old: float, timeout: float = 15.0) -> float:
    """Poll a counter until it differs from `old`; return the new value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = counter(page_or_frame, selector)
        if value != old:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{selector} stayed at {old} for {timeout} s")


def is_still(page_or_frame, selector: str, settle: float = 0.5, watch: float = 0.8) -> bool:
    """After `settle` s, the counter does not move for `watch` s (the lab is paused)."""
    time.sleep(settle)
    before = counter(page_or_frame, selector)
    time.sleep(watch)
    return counter(page_or_frame, selector) == before


# The main picture: the marked canvas or svg, or the figures it holds (their drawings and
# captions: the grids and the step's sum, the similarity matrix and the embedding side by
# side; a picture made of text, the box itself), their box, the viewport and how far the
# document scrolls, in CSS px.
GEOMETRY = """() => {
  const mark = [...document.querySelectorAll("[data-main-picture]")].find((m) => m.checkVisibility());
  let drawn = !mark ? [] : mark.matches("canvas, svg") ? [mark]
    : [...mark.querySelectorAll("canvas, svg, figcaption")]
      .filter((el) => el.checkVisibility() && !el.parentElement.closest("svg"));
  if (mark && !drawn.length) drawn = [mark];
  const rs = drawn.map((el) => el.getBoundingClientRect()).filter((r) => r.width && r.height);
  const doc = document.documentElement;
  const pic = rs.length ? {
    left: Math.min(...rs.map((r) => r.left)), top: Math.min(...rs.map((r) => r.top)),
    right: Math.max(...rs.map((r) => r.right)), bottom: Math.max(...rs.map((r) => r.bottom)),
  } : null;
  if (pic) { pic.width = pic.right - pic.left; pic.height = pic.bottom - pic.top; }
  return {vw: innerWidth, vh: innerHeight, sw: doc.scrollWidth, sh: doc.scrollHeight, pic};
}"""
