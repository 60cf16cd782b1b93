"""The gallery lists every lab in lecture order and links to it."""

from __future__ import annotations

from app.labs import LABS


def test_gallery_lists_labs_in_lecture_order(page, server):
    page.goto(server + "/")
    titles = page.locator(".gallery .card strong").all_inner_texts()
    assert titles == [lab.title for lab in LABS]
    page.click("#lab-mlp a")
    page.wait_for_url("**/labs/mlp")
