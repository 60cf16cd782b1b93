"""The gallery lists every lab in lecture order, with its thumbnail, one line and its presets."""

from __future__ import annotations

import json

from app.labs import LABS
from tests.browser.conftest import ROOT, shot

PRESETS = [json.loads(p.read_text()) for p in sorted((ROOT / "presets").glob("*.json"))]


def test_gallery_lists_labs_in_lecture_order(page, server):
    page.goto(server + "/")
    titles = page.locator(".gallery .card strong").all_inner_texts()
    assert titles == [lab.title for lab in LABS]
    blurbs = page.locator(".gallery .card .blurb").all_inner_texts()
    assert blurbs == [lab.blurb for lab in LABS]
    assert page.locator(".later li").all_inner_texts() == [
        "ConvNets", "Depth"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, "gallery")
    page.click("#lab-mlp > a")
    page.wait_for_url("**/labs/mlp")


def test_every_lab_has_a_thumbnail(page, server):
    page.goto(server + "/")
    page.wait_for_load_state("load")
    sizes = page.eval_on_selector_all(
        ".gallery .card img",
        "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth, i.naturalHeight])",
    )
    assert [src for src, _, _ in sizes] == [f"/static/img/{lab.slug}.svg" for lab in LABS]
    missing = [src for src, w, h in sizes if not (w and h)]
    assert not missing, f"thumbnails missing or broken: {missing}"
    for src, w, h in sizes:
        assert abs(w / h - 16 / 9) < 0.01, f"{src} is {w}×{h}, not 320×180 (16:9)"


def test_gallery_links_each_labs_presets(page, server):
    page.goto(server + "/")
    for lab in LABS:
        chips = page.locator(f"#lab-{lab.slug} .presets a")
        expected = [p["title"] for p in PRESETS if p["lab"] == lab.slug]
        assert chips.all_inner_texts() == expected
    first = next((p for p in PRESETS if (ROOT / "templates" / "labs" / f"{p['lab']}.html").exists()), None)
    if first is None:
        return
    page.click(f'#lab-{first["lab"]} .presets a:text-is("{first["title"]}")')
    page.wait_for_url(f"**/labs/{first['lab']}?**")
    assert page.get_attribute("body", "data-preset") == first["name"]
