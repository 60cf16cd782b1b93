"""The Share / embed dialog as a lecturer uses it: every control listed by a human name, the
URL boxes legible, the same dialog in every lab, a snippet browsers accept, and a short link
when a lab's own points make the link too long."""

from __future__ import annotations

import base64
import json
import re

import pytest

from app.labs import BY_SLUG
from tests.browser.conftest import ROOT, shot
from tests.browser.labpage import lab_call, wait_for_lab

LABS = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]


def open_dialog(page, server: str, lab: str, query: str = "") -> None:
    page.goto(f"{server}/labs/{lab}{query}")
    wait_for_lab(page)
    page.click('[data-action="share"]')
    page.locator("#share-dialog").wait_for(state="visible")


@pytest.mark.parametrize("lab", LABS)
def test_hide_list_names_every_control_for_people(page, server, lab):
    open_dialog(page, server, lab)
    box = page.locator("#share-hide")
    # No inner scroll box: every choice shows (the dialog itself may scroll).
    assert box.evaluate("el => el.scrollHeight <= el.clientHeight + 1"), "the hide list scrolls inside itself"
    items = box.locator("label.check")
    names = box.locator("input").evaluate_all("els => els.map((e) => e.value)")
    labels = [t.strip() for t in items.all_inner_texts()]
    unique = "els => [...new Set(els.map((e) => e.dataset.control))]"
    controls = page.eval_on_selector_all("[data-control]", unique)
    assert sorted(names) == sorted(controls)
    for name, label in zip(names, labels, strict=True):
        assert label and label != name, f"{name}: the raw key is its label"
        assert "(" + name not in label and "_" not in label, f"{name}: {label!r} shows a raw key"
        assert not re.search(r"\d", label), f"{name}: {label!r} shows a live value"
        assert not re.search(r"X[₁₂]", label), f"{name}: {label!r}"
        assert label[0].isupper(), f"{name}: {label!r} is not in sentence case"
    assert box.locator('input[value="toolbar"]').is_checked()  # proposed for a slide
    shot(page, f"share-list-{lab}")


def changed_pixels(page, a: bytes, b: bytes) -> int:
    """How many pixels differ clearly between two screenshots of one element (read in the page)."""
    return page.evaluate("""async ([a, b]) => {
        const read = async (data) => {
          const img = new Image(); img.src = "data:image/png;base64," + data; await img.decode();
          const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
          const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
          return ctx.getImageData(0, 0, c.width, c.height).data;
        };
        const [x, y] = [await read(a), await read(b)];
        let n = 0;
        for (let i = 0; i < x.length; i += 4) {
          if (Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]) > 90) n++;
        }
        return n;
    }""", [base64.b64encode(a).decode(), base64.b64encode(b).decode()])


def test_url_boxes_show_underscores(page, server):
    open_dialog(page, server, "mlp")
    field = page.locator("#share-url")
    field.evaluate("el => { el.value = ''; }")
    empty = field.screenshot()
    field.evaluate("el => { el.value = '________________________'; }")
    drawn = changed_pixels(page, empty, field.screenshot())
    assert drawn >= 100, f"the underscores draw {drawn} pixels"


STYLE = """() => [".share-dialog", ".share-dialog fieldset", ".share-dialog legend",
  ".share-dialog .field > span", ".share-dialog .check", "#share-width", "#share-url"].map((sel) => {
    const s = getComputedStyle(document.querySelector(sel));
    return [sel, s.fontSize, s.borderTopWidth, s.borderTopStyle, s.paddingTop, s.display, s.color].join(" ");
  })"""


def test_the_dialog_looks_alike_in_every_lab(page, server):
    looks = {}
    for lab in LABS:
        open_dialog(page, server, lab)
        looks[lab] = page.evaluate(STYLE)
    first = looks[LABS[0]]
    for lab in LABS[1:]:
        assert looks[lab] == first, f"the {lab} lab's dialog differs"


def test_snippet_allows_fullscreen_only(page, server):
    open_dialog(page, server, "perceptron")
    snippet = page.input_value("#share-snippet")
    assert ' allow="fullscreen" ' in snippet and "allowfullscreen" not in snippet


def test_a_link_with_own_points_is_shortened(page, server, browser):
    points = [[round(-5 + i % 50 * 0.2, 2), round(-5 + i // 50 * 0.5, 2), 1 if i % 3 else -1]
              for i in range(1000)]
    query = "?dataset=circle&seed=4&points=" + json.dumps(points).replace(" ", "")
    open_dialog(page, server, "mlp", query)
    state = lab_call(page, "state")
    assert len(page.evaluate("location.href")) > 8000
    page.wait_for_function("() => document.getElementById('share-url').value.includes('/s/')")
    short, embed = page.input_value("#share-url"), page.input_value("#share-embed-url")
    assert re.fullmatch(rf"{server}/s/[a-z2-7]+", short) and re.fullmatch(rf"{server}/s/[a-z2-7]+", embed)
    assert embed != short and embed in page.input_value("#share-snippet")
    assert "kept by this server" in page.inner_text("#share-dialog")
    shot(page, "share-short-link")
    other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        other.goto(short)
        wait_for_lab(other)
        assert lab_call(other, "state") == state
        other.goto(embed)
        wait_for_lab(other)
        assert "embed=1" in other.url and "hide=toolbar" in other.url
    finally:
        other.context.close()


def test_a_short_link_stays_a_full_link_when_short_enough(page, server):
    open_dialog(page, server, "perceptron")
    assert "/labs/perceptron?" in page.input_value("#share-url")
    assert "/embed/perceptron?" in page.input_value("#share-embed-url")
