"""Every lab where a lecture needs it: in a slide's iframe at 960×540 and 640×360 (the main
picture fills the frame, the document never scrolls), in presenter mode (text ≥ 14 px), and
on a 390×844 phone (the picture at full width, the controls below, nothing wider than the
screen). The screenshots of every lab at every size are kept in tests/artifacts/."""

from __future__ import annotations

import pytest

from app.labs import BY_SLUG
from tests.browser.conftest import ROOT, shot
from tests.browser.labpage import GEOMETRY, wait_for_lab

LABS = [lab for lab in BY_SLUG if (ROOT / "templates" / "labs" / f"{lab}.html").exists()]

# Visible elements that stick out of the viewport's right edge, outside a horizontal scroller.
TOO_WIDE = """() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.right <= innerWidth + 0.5) continue;
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      const scroller = ["auto", "scroll", "hidden", "clip"].includes(s.overflowX);
      if (scroller && p.getBoundingClientRect().right <= innerWidth + 0.5) {
        clipped = true; break;
      }
    }
    if (!clipped && getComputedStyle(el).position !== "fixed") {
      const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`;
      out.push(`${name} → ${Math.round(r.right)}`);
    }
  }
  return out.slice(0, 8);
}"""

# Shown elements matching a selector that reach outside the viewport (the transport strip).
OUTSIDE = """(sel) => [...document.querySelectorAll(sel)].filter((el) => {
  const r = el.getBoundingClientRect();
  const out = r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5;
  return el.checkVisibility() && r.width && out;
}).map((el) => el.className || el.id || el.tagName)"""

# Rendered text smaller than 14 px, in the parts of the page a viewer can see or scroll to.
SMALL_TEXT = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    const unseen = "dialog:not([open]), [popover]:not(:popover-open), script, style, .visually-hidden";
    if (!el || el.closest(unseen)) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || !el.checkVisibility()) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 14) small.push(`${n.textContent.trim().slice(0, 30)} (${size}px)`);
  }
  return small.slice(0, 10);
}"""


def proposed_embed_url(page, server: str, lab: str) -> str:
    """The embed URL the Share dialog proposes for the lab as it opens (its default hide set)."""
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    page.click('[data-action="share"]')
    url = page.input_value("#share-embed-url")
    page.keyboard.press("Escape")
    return url


def open_embed(page, url: str, width: int, height: int) -> dict:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    wait_for_lab(page)
    page.wait_for_timeout(300)  # a redraw after the last resize
    return page.evaluate(GEOMETRY)


@pytest.mark.parametrize("lab", LABS)
def test_embed_fills_a_slide_at_both_sizes(page, server, lab):
    url = proposed_embed_url(page, server, lab)
    assert "hide=toolbar" in url, "the Share dialog proposes hiding the toolbar in a slide"
    for width, height in [(960, 540), (640, 360)]:
        g = open_embed(page, url, width, height)
        shot(page, f"layout-{lab}-embed-{width}x{height}")
        assert g["sw"] <= g["vw"] and g["sh"] <= g["vh"], (
            f"{lab} at {width}×{height}: the document scrolls ({g['sw']}×{g['sh']})")
        pic = g["pic"]
        assert pic, f"{lab}: no element marked data-main-picture holds a picture"
        assert pic["left"] >= 0 and pic["top"] >= 0, f"{lab} at {width}×{height}: picture at {pic}"
        assert pic["right"] <= width + 0.5 and pic["bottom"] <= height + 0.5, (
            f"{lab} at {width}×{height}: the picture sticks out of the frame: {pic}")
        share = pic["width"] * pic["height"] / (width * height)
        assert share >= 0.45, f"{lab} at {width}×{height}: the picture covers only {share:.0%} of the frame"
        # as large as the frame allows: the frame's height, or (a wide picture above the strip) its width
        assert pic["height"] >= 0.85 * height or pic["width"] >= 0.85 * width, (
            f"{lab} at {width}×{height}: the picture is {pic['width']:.0f}×{pic['height']:.0f}px")
        assert page.evaluate(OUTSIDE, ".np-bar > *") == [], f"{lab} at {width}×{height}: the strip is cut off"


def test_a_wide_picture_takes_the_width_and_the_fold_button_brings_the_controls_beside(page, server):
    """The convolution's photo and its filtered copy side by side: wider than tall, so a slide
    shows them at the frame's width with the strip under them and the controls folded; ⚙
    brings the controls column back beside a narrower picture, and folds it again."""
    g = open_embed(page, f"{server}/embed/convolution?section=images&kname=sobel_x&hide=toolbar", 960, 540)
    toggle = page.locator(".np-dock-toggle")
    assert g["pic"]["width"] >= 0.85 * 960 and not page.locator("#np-dock").is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.wait_for_timeout(300)
    beside = page.evaluate(GEOMETRY)
    shot(page, "layout-fold-button-open")
    assert page.locator('[data-control="gallery"]').is_visible(), "the controls did not come back"
    dock = page.locator("#np-dock").bounding_box()
    assert beside["pic"]["right"] <= dock["x"], "the controls cover the picture"
    assert beside["sw"] <= 960 and beside["sh"] <= 540 and beside["pic"]["height"] >= 0.45 * 540
    toggle.click()
    page.wait_for_timeout(300)
    assert page.evaluate(GEOMETRY)["pic"]["width"] >= 0.85 * 960 and not page.locator("#np-dock").is_visible()


@pytest.mark.parametrize("lab", LABS)
def test_presenter_mode_text_is_large_and_nothing_scrolls(page, server, lab):
    url = proposed_embed_url(page, server, lab) + "&present=1"
    g = open_embed(page, url, 960, 540)
    shot(page, f"layout-{lab}-embed-present-960x540")
    assert g["sw"] <= g["vw"] and g["sh"] <= g["vh"], f"{lab}: presenter view scrolls ({g['sw']}×{g['sh']})"
    assert page.evaluate(SMALL_TEXT) == []
    plot_font = "parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--plot-font'))"
    assert page.evaluate(plot_font) >= 14


@pytest.mark.parametrize("lab", LABS)
def test_every_control_hidden_leaves_no_empty_panel(page, server, lab):
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    unique = "els => [...new Set(els.map((e) => e.dataset.control))]"
    names = page.eval_on_selector_all("[data-control]", unique)
    g = open_embed(page, f"{server}/embed/{lab}?hide={','.join(names)}", 960, 540)
    shot(page, f"layout-{lab}-embed-all-hidden")
    assert g["sw"] <= g["vw"] and g["sh"] <= g["vh"]
    empty = page.evaluate("""() => [...document.querySelectorAll(".panel")].filter((p) => {
        const r = p.getBoundingClientRect();
        if (!r.width || !r.height) return false;
        // a panel is empty when nothing but headings shows in it
        return ![...p.querySelectorAll("*")].some((c) => !/^H[1-6]$/.test(c.tagName) && !c.closest("h1,h2,h3")
          && c.getBoundingClientRect().height > 0 && c.checkVisibility());
      }).map((p) => p.className)""")
    assert empty == [], f"{lab}: empty panels remain: {empty}"
    pic = g["pic"]
    assert pic and (pic["height"] >= 0.85 * 540 or pic["width"] >= 0.85 * 960)


@pytest.mark.parametrize("lab", LABS)
def test_phone_portrait_picture_full_width_controls_below(page, server, lab):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    page.wait_for_timeout(300)
    shot(page, f"layout-{lab}-phone-390x844")
    g = page.evaluate(GEOMETRY)
    assert g["sw"] <= 390, f"{lab}: the page is {g['sw']}px wide on a 390px phone"
    assert page.evaluate(TOO_WIDE) == []
    pic = g["pic"]
    assert pic and pic["left"] >= 0 and pic["right"] <= 390
    assert pic["width"] >= 350, f"{lab}: the picture is {pic['width']}px wide on a 390px phone"
    assert pic["top"] < 844 / 2, f"{lab}: the picture starts at y = {pic['top']}"
    # The lab's settings come after the picture (the transport strip may sit beside it).
    above = page.evaluate("""(bottom) => [...document.querySelectorAll("[data-control]")]
        .filter((el) => el.checkVisibility() && !el.closest("[data-bar], [data-main-picture]"))
        .filter((el) => el.getBoundingClientRect().top < bottom - 1).map((el) => el.dataset.control)""",
                          pic["bottom"])
    assert above == [], f"{lab}: controls above the picture: {above}"


@pytest.mark.parametrize("lab", LABS)
def test_full_page_at_1440x900(page, server, lab):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/labs/{lab}")
    wait_for_lab(page)
    page.wait_for_timeout(300)
    shot(page, f"layout-{lab}-1440x900")
    g = page.evaluate(GEOMETRY)
    assert g["sw"] <= 1440
    assert g["pic"] and g["pic"]["top"] < 900 and g["pic"]["height"] >= 250


# ---- the README's iframe and the slide deck ------------------------------------------------

def test_readme_iframe_example_shows_the_whole_plot(page, server):
    """The README's own <iframe> snippet, as a lecturer would paste it into a slide."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"<iframe [^>]*></iframe>", readme, re.S).group(0)
    assert 'allow="fullscreen"' in snippet and "allowfullscreen" not in snippet
    src = re.search(r'src="([^"]+)"', snippet).group(1)
    width, height = (int(re.search(rf'{k}="(\d+)"', snippet).group(1)) for k in ("width", "height"))
    url = src.replace("http://127.0.0.1:8000", server).replace("&amp;", "&")
    g = open_embed(page, url, width, height)
    shot(page, "layout-readme-iframe")
    assert g["sw"] <= width and g["sh"] <= height
    pic = g["pic"]
    assert pic["left"] >= 0 and pic["top"] >= 0 and pic["right"] <= width and pic["bottom"] <= height
    assert pic["height"] >= 0.85 * height


def test_slide_deck_shows_large_pictures(page, server):
    """tests/slides/deck.html at a projector's 1280×720: the MLP's output plot and neurons are
    large enough to see from the back (they were ~150 px and ~24 px)."""
    deck = (ROOT / "tests" / "slides" / "deck.html")
    assert "allowfullscreen" not in deck.read_text(encoding="utf-8")
    page.goto(f"{deck.as_uri()}?base={server}")
    page.click(".slide.current h1")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # the MLP slide
    frame = page.frame_locator("#mlp-frame")
    frame.locator("html[data-lab-ready]").wait_for(state="attached", timeout=15_000)
    page.wait_for_timeout(300)
    plot = frame.locator("#mlp-output").bounding_box()
    neuron = frame.locator(".network .neuron").first.bounding_box()
    iframe = page.locator("#mlp-frame").bounding_box()
    shot(page, "layout-deck-mlp")
    assert plot["height"] >= 0.85 * iframe["height"], f"the output plot is {plot['height']}px tall"
    assert plot["y"] + plot["height"] <= iframe["y"] + iframe["height"] + 0.5
    assert neuron["width"] >= 32, f"neuron thumbnails are {neuron['width']}px"
